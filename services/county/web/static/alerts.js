// Dual-management alerts within the roster's township (or the whole county), as of the date.
import { fmtDate, fmtInt, get, h, table } from "./api.js";
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

export async function loadAlerts(state, rerender) {
  const township = state.township;
  const key = JSON.stringify([township, chosen, state.asOf]);
  if (key !== scopeKey) (scopeKey = key), (offset = 0);
  const found = await get("api/v1/alerts", { township, kind: chosen, as_of: state.asOf, limit: PAGE, offset });
  const scope = township ? t("scope_in", { x: state.townshipName ?? township }) : t("scope_county");
  document.getElementById("alerts-scope").textContent = scope;
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
  const rows = found.items.map((a) =>
    h("tr", {}, h("td", {}, a.name ?? "–"), h("td", {}, t(a.kind)), h("td", {}, a.township_name ?? "–"), h("td", {}, a.village_name ?? "–"), h("td", {}, detail(a))),
  );
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
