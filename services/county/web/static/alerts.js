// Dual-management alerts where the roster's drill-down stands (the county, a township or a
// village), as of the date; a row opens the member's card; the alerts in scope export as CSV/Excel.
import { fmtDate, fmtInt, get, h, table, url } from "./api.js";
import { t } from "./i18n.js";

const KINDS = ["no_orglife_90d", "untrained_this_year", "contact_lost", "recruitment_awaiting_second_review", "no_outstation"];
const PAGE = 20;
let chosen = null;
let offset = 0;
let scopeKey = null;

function detail(a) {
  const d = a.detail ?? {};
  if (a.kind === "no_orglife_90d") return `${t("last_orglife_at")}: ${fmtDate(d.last_orglife_at)}`;
  if (a.kind === "untrained_this_year") return `${t("last_trained_at")}: ${fmtDate(d.last_trained_at)}`;
  if (a.kind === "contact_lost") return `${t("status_since")}: ${fmtDate(d.since)}`;
  if (a.kind === "no_outstation") return `${t("host_location")}: ${d.host_location ?? "–"}`;
  if (a.kind === "recruitment_awaiting_second_review") return `${d.org_name ?? ""} ✓${t(`side_${d.approved_side}`)} → ${t(`side_${d.awaiting_side}`)}`;
  return Object.entries(d).map(([k, v]) => `${k}: ${v ?? "–"}`).join(", ");
}

function navigate(change) {
  document.dispatchEvent(new CustomEvent("tx:navigate", { detail: change }));
}

function scopeText(state) {
  if (!state.township && !state.village) return t("scope_county");
  const names = [state.townshipName ?? state.township, state.village ? state.villageName ?? state.village : null];
  return t("scope_in", { x: names.filter(Boolean).join(" · ") });
}

export async function loadAlerts(state, rerender) {
  const { township, village } = state;
  const key = JSON.stringify([township, village, chosen, state.asOf]);
  if (key !== scopeKey) (scopeKey = key), (offset = 0);
  const scope = { township, village, kind: chosen, as_of: state.asOf };
  const found = await get("api/v1/alerts", { ...scope, limit: PAGE, offset });
  const box = document.getElementById("alerts");
  box.dataset.township = township ?? "";
  box.dataset.village = village ?? "";
  document.getElementById("alerts-scope").textContent = scopeText(state);
  document.getElementById("alert-exports").replaceChildren(
    h("a", { href: url("api/v1/export/alerts.csv", scope), download: "", "data-testid": "alerts-csv" }, t("export_csv")),
    h("a", { href: url("api/v1/export/alerts.xlsx", scope), download: "", "data-testid": "alerts-xlsx" }, t("export_xlsx")),
  );
  pager(found, rerender);
  const tiles = KINDS.map((k) =>
    h(
      "button",
      { type: "button", class: `tile alert-tile${chosen === k ? " chosen" : ""}`, "data-kind": k, onclick: () => ((chosen = chosen === k ? null : k), rerender()) },
      h("b", {}, fmtInt(found.counts[k])),
      h("span", {}, t(k)),
    ),
  );
  document.getElementById("alert-counts").replaceChildren(...tiles);
  const rows = found.items.map((a) => {
    const open = (e) => (e.preventDefault(), navigate({ member: a.member_id }));
    const name = h("a", { href: "#", title: t("open_card"), "data-testid": "alert-member" }, a.name ?? "–");
    return h(
      "tr",
      { class: "clickable", "data-member-id": a.member_id, "data-kind": a.kind, onclick: open },
      h("td", {}, name),
      h("td", {}, t(a.kind)),
      h("td", {}, a.township_name ?? "–"),
      h("td", {}, a.village_name ?? "–"),
      h("td", {}, detail(a)),
    );
  });
  table(document.getElementById("alert-items"), [t("person_name"), t("kind"), t("township"), t("village"), t("detail")], rows);
}

function pager(found, rerender) {
  const first = found.items.length ? found.offset + 1 : 0;
  const last = found.offset + found.items.length;
  const go = (to) => () => ((offset = to), rerender());
  const prev = h("button", { type: "button", "data-testid": "alerts-prev", onclick: go(Math.max(0, offset - PAGE)) }, t("prev_page"));
  const next = h("button", { type: "button", "data-testid": "alerts-next", onclick: go(offset + PAGE) }, t("next_page"));
  prev.disabled = offset === 0;
  next.disabled = last >= found.total;
  const range = h("span", { "data-testid": "alerts-range" }, t("page_range", { a: fmtInt(first), b: fmtInt(last), n: fmtInt(found.total) }));
  const box = document.getElementById("alert-pager");
  box.dataset.pageSize = String(PAGE);
  box.replaceChildren(prev, range, next);
}
