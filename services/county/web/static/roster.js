// The three-level roster: county → township → village → members, and the member card.
import { ApiError, fmtDate, fmtInt, fmtTime, get, h, table, url } from "./api.js";
import { STATUSES, filterBar, filtered } from "./filters.js";
import { t } from "./i18n.js";

const PAGE = 50;

function navigate(change) {
  document.dispatchEvent(new CustomEvent("tx:navigate", { detail: change }));
}

function key(id) {
  return id === null ? "-" : id; // the API's filter value for "(未登记)"
}

// The level's counts by status (never narrowed by the status chosen); a status tile lists that
// status's members, the total tile (or the chosen tile again) lists them all.
function tiles(summary, state) {
  const tile = (label, n, attrs, status) =>
    h(
      "button",
      { type: "button", class: "tile", onclick: () => navigate({ status: state.status === status ? null : status }), ...attrs },
      h("b", {}, fmtInt(n)),
      h("span", {}, label),
    );
  const chosen = (s) => (state.status === s ? " chosen" : "");
  return [
    tile(t("total"), summary.total, { "data-testid": "level-total", title: t("total_tile_hint") }, null),
    ...STATUSES.map((s) =>
      tile(t(s), summary.by_status[s], { "data-status": s, class: `tile status-tile st-${s}${chosen(s)}`, title: t("status_tile_hint") }, s),
    ),
  ];
}

function crumbs(summary) {
  return summary.path.map((p, i) => {
    const last = i === summary.path.length - 1;
    const target =
      p.level === "county" ? { township: null, village: null } : p.level === "township" ? { township: key(p.id), village: null } : null;
    const label = p.id === null ? t("unregistered") : p.name;
    return last || !target
      ? h("span", { class: "crumb current" }, label)
      : h("a", { href: "#", class: "crumb", onclick: (e) => (e.preventDefault(), navigate(target)) }, label);
  });
}

function childRows(summary, state) {
  const level = summary.children[0]?.level;
  return summary.children.map((c) => {
    const target = level === "township" ? { township: key(c.id), village: null } : { township: state.township, village: key(c.id) };
    const go = (e) => (e.preventDefault(), navigate(target));
    return h(
      "tr",
      { "data-child-id": key(c.id), class: "clickable", onclick: go },
      h("td", {}, h("a", { href: "#", "data-testid": "child-link" }, c.id === null ? t("unregistered") : c.name)),
      h("td", { class: "n", "data-col": "total" }, fmtInt(c.total)),
      STATUSES.map((s) => h("td", { class: "n", "data-col": s }, fmtInt(c.by_status[s]))),
    );
  });
}

export function rosterParams(state) {
  const { township, village, asOf, status, outstation, hostLocation } = state;
  return { township, village, as_of: asOf, status, outstation, host_location: hostLocation };
}

function memberParams(state) {
  return { ...rosterParams(state), name: state.name };
}

export async function loadRoster(state) {
  const [summary, every] = await Promise.all([
    get("api/v1/roster", rosterParams(state)),
    state.status ? get("api/v1/roster", { ...rosterParams(state), status: null }) : null,
    filterBar(state),
  ]);
  state.townshipName = summary.path.find((p) => p.level === "township")?.name ?? null;
  state.villageName = summary.level === "village" ? summary.name : null;
  document.getElementById("crumbs").replaceChildren(...crumbs(summary));
  const level = document.getElementById("level");
  level.dataset.level = summary.level;
  level.dataset.id = key(summary.id);
  level.replaceChildren(...tiles(every ?? summary, state));
  const children = document.getElementById("children");
  if (summary.children.length) {
    const head = [t(summary.children[0].level), t("total"), ...STATUSES.map(t)];
    table(children, head, childRows(summary, state));
    children.hidden = false;
  } else {
    children.replaceChildren();
    children.hidden = true;
  }
  // members under an organisation the county's register does not know: say how to load the tree
  const unknown = summary.children.some((c) => c.id === null) || summary.path.some((p) => p.id === null);
  const hint = document.getElementById("tree-hint");
  hint.hidden = !unknown;
  hint.textContent = unknown ? t("tree_hint") : "";
  const params = memberParams(state);
  document.getElementById("roster-exports").replaceChildren(
    h("a", { href: url("api/v1/roster/members.csv", params), download: "", "data-testid": "roster-csv" }, t("export_csv")),
    h("a", { href: url("api/v1/export/roster.xlsx", params), download: "", "data-testid": "roster-xlsx" }, t("export_xlsx")),
  );
  const members = document.getElementById("members");
  if (state.village === null && !filtered(state)) members.replaceChildren();
  else await loadMembers(state, members);
}

async function loadMembers(state, box) {
  const page = await get("api/v1/roster/members", { ...memberParams(state), limit: PAGE, offset: state.offset });
  const rows = page.items.map((m) =>
    h(
      "tr",
      { "data-member-id": m.member_id, class: "clickable", onclick: () => navigate({ member: m.member_id }) },
      h("td", {}, h("a", { href: "#", onclick: (e) => e.preventDefault() }, m.name)),
      h("td", { "data-col": "status" }, t(m.status)),
      h("td", {}, m.outstation_name ?? "–"),
      h("td", {}, m.host_location ?? "–"),
      h("td", {}, m.occupation ?? "–"),
      h("td", {}, fmtDate(m.status_since)),
    ),
  );
  const grid = h("table", { class: "grid", "data-testid": "member-list" });
  table(grid, [t("person_name"), t("status"), t("outstation"), t("host_location"), t("occupation"), t("status_since")], rows);
  const a = page.total ? page.offset + 1 : 0;
  const b = page.offset + page.items.length;
  const pager = h(
    "div",
    { class: "pager" },
    h("button", { disabled: page.offset === 0, onclick: () => navigate({ offset: Math.max(0, page.offset - PAGE) }) }, t("prev")),
    h("span", { "data-testid": "member-count", "data-total": page.total }, t("page", { a, b, n: page.total })),
    h("button", { disabled: b >= page.total, onclick: () => navigate({ offset: page.offset + PAGE }) }, t("next")),
  );
  const heading = state.village === null ? t("filtered_members") : t("members");
  box.replaceChildren(h("h3", {}, heading), h("div", { class: "scroll" }, grid), pager);
}

function field(label, value, attrs = {}) {
  return [h("dt", {}, label), h("dd", attrs, value ?? "–")];
}

// An original marked by the correction that stands ("已更正：reason"), a correction by what it corrects.
function correction(e) {
  if (e.state) {
    const why = e.corrections.filter((c) => c.stands).map((c) => c.reason).join("；");
    return h("span", { class: "fix", "data-testid": "fix-state" }, ` · ${t(`state_${e.state}`)}：${why}`);
  }
  if (e.corrects === null || e.corrects === undefined) return null;
  const what = t(e.type === "record.voided" ? "voids" : "corrects", { seq: e.corrects });
  return h("span", { class: "fix", "data-testid": "fix-of" }, ` · ${what}：${e.reason}${e.stands ? "" : `（${t("fix_refused")}）`}`);
}

// A conflict in words: its kind, and the nodes (by name) or the day and the events it is about.
function conflictText(c, history) {
  const names = Object.fromEntries(history.map((e) => [e.node_id, e.node_name ?? e.node_id]));
  const d = c.detail ?? {};
  const list = (xs) => xs.join(t("list_sep"));
  if (d.nodes) return t(c.kind) + t("conflict_nodes", { x: list(d.nodes.map((n) => names[n] ?? n)) });
  if (d.date) return t(c.kind) + t("conflict_day", { d: fmtDate(d.date), x: list((d.types ?? []).map((x) => t(x))) });
  return t(c.kind);
}

function cardBody(card, alerts) {
  const co = card.co_managers.map((c) => h("tr", {}, h("td", {}, c.name), h("td", {}, t(`role_${c.role}`)), h("td", {}, c.post ?? "–")));
  const coTable = h("table", { class: "grid", "data-testid": "co-managers" });
  table(coTable, [t("name"), t("role"), t("post")], co);
  const events = card.history.map((e) =>
    h("li", { "data-state": e.state, "data-seq": e.seq }, h("time", {}, fmtTime(e.occurred_at)), " ", h("b", {}, t(e.type)), h("span", { class: "muted", title: `${e.node_id}:${e.seq}` }, ` ${e.node_name ?? e.node_id} #${e.seq}`), correction(e)),
  );
  const act = card.activity;
  return [
    h(
      "dl",
      { class: "fields" },
      field(t("status"), t(card.status), { "data-testid": "card-status" }),
      field(t("status_since"), fmtDate(card.status_since)),
      field(t("township"), card.township === null ? t("unregistered") : card.township_name),
      field(t("village"), card.village === null ? t("unregistered") : card.village_name),
      field(t("outstation"), card.outstation_name),
      field(t("host_location"), card.host_location),
      field(t("host_org"), card.host_org_name),
      field(t("occupation"), card.occupation),
      field(t("flowed_out_on"), fmtDate(card.flowed_out_on)),
      field(t("study_account"), card.study_account ? t("yes") : t("no")),
      field(t("last_orglife_at"), fmtTime(act.last_orglife_at)),
      field(t("last_trained_at"), fmtTime(act.last_trained_at)),
      field(t("trained_years"), act.trained_years.join(", ") || t("none")),
    ),
    h("h3", {}, t("co_managers")),
    coTable,
    h("h3", {}, t("member_alerts")),
    h("ul", { "data-testid": "card-alerts" }, alerts.length ? alerts.map((a) => h("li", { class: "alert" }, t(a.kind))) : h("li", {}, t("none"))),
    card.conflicts.length ? [h("h3", {}, t("conflicts")), h("ul", { "data-testid": "card-conflicts" }, card.conflicts.map((c) => h("li", {}, conflictText(c, card.history))))] : null,
    h("h3", {}, t("history")),
    h("ol", { class: "timeline", "data-testid": "history" }, events),
  ];
}

export async function loadCard(state) {
  const box = document.getElementById("card");
  if (!state.member) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const close = h("button", { type: "button", onclick: () => navigate({ member: null }) }, t("close"));
  let card;
  try {
    card = await get(`api/v1/members/${state.member}`, { as_of: state.asOf });
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
    box.replaceChildren(h("div", { class: "panel-head" }, h("h2", {}, t("member")), close), h("p", {}, t("not_on_roster")));
    box.hidden = false;
    return;
  }
  const found = await get("api/v1/alerts", { township: key(card.township), as_of: state.asOf, limit: 1000 });
  const mine = found.items.filter((a) => a.member_id === card.member_id);
  const head = h("div", { class: "panel-head" }, h("h2", { "data-testid": "card-name" }, card.name), h("span", { class: `badge st-${card.status}` }, t(card.status)), close);
  box.replaceChildren(head, ...cardBody(card, mine).flat().filter(Boolean));
  box.hidden = false;
  box.dataset.memberId = card.member_id;
}
