// Node health, refreshed every few seconds (live: node health has no as_of).
import { fmtInt, fmtTime, get, h, table } from "./api.js";
import { t } from "./i18n.js";

export const REFRESH_MS = 5000;
// A node has no heartbeat: it publishes each event within a second of recording it (the
// forwarder's idle poll, services/branch_node/forwarder.py), so what the county hears from it is
// its outstation's work. The demo's county (2 events a second over 21 nodes) hears from each
// node about every 10 s and cuts one off for 30 s now and then (tongxin demo --offline-for): a
// node silent for 60 s — six usual intervals, twice an outage — is flagged. A county whose
// outstations record a few events a day reads the flag as "nothing recorded lately" too.
export const STALE_S = 60;

// Silence in words: "静默 6 分钟" / "silent 6 min" (whole units, rounded down).
export function silence(s) {
  const [n, unit] = s < 60 ? [s, "secs"] : s < 3600 ? [s / 60, "mins"] : s < 86400 ? [s / 3600, "hours"] : [s / 86400, "days"];
  return t("silent_for", { x: t(unit, { n: fmtInt(Math.floor(n)) }) });
}

function gaps(list) {
  return list.length ? list.map((g) => (g.from === g.to ? `${g.from}` : `${g.from}–${g.to}`)).join(", ") : "–";
}

export async function loadNodes() {
  const health = await get("api/v1/nodes");
  const rows = health.items.map((n) => {
    const r = n.last_receipt;
    const stale = n.silent_s !== null && n.silent_s > STALE_S;
    const warn = stale || n.held > 0 || n.quarantined > 0 || n.refused_claims > 0 || n.gaps.length > 0;
    const flag = stale ? h("span", { class: "stale", "data-testid": "stale", title: t("stale_hint", { n: STALE_S }) }, silence(n.silent_s)) : null;
    return h(
      "tr",
      { "data-node-id": n.node_id, class: warn ? "warn" : null, "data-stale": stale ? "1" : null },
      h("td", { "data-col": "name", title: n.node_id }, n.name ?? n.node_id, flag),
      h("td", { class: "n", "data-col": "last_seq" }, fmtInt(n.last_seq)),
      h("td", {}, fmtTime(n.last_seen)),
      h("td", { class: "n" }, fmtInt(n.lag_s)),
      h("td", { class: "n" }, fmtInt(n.silent_s)),
      h("td", { class: "n", "data-col": "held" }, fmtInt(n.held)),
      h("td", {}, gaps(n.gaps)),
      h("td", { class: "n", "data-col": "quarantined" }, fmtInt(n.quarantined)),
      h("td", { class: "n", "data-col": "refused_claims" }, fmtInt(n.refused_claims)),
      h("td", { "data-col": "receipt" }, r ? `#${r.seq} · ${fmtTime(r.issued_at)}` : "–"),
    );
  });
  const head = ["node", "last_seq", "last_seen", "lag_s", "silent_s", "held", "gaps", "quarantined", "refused_claims", "last_receipt"].map((k) => t(k));
  table(document.getElementById("node-table"), head, rows);
  const stamp = t("updated", { x: fmtTime(health.as_of) });
  const extra = health.unattributed_quarantined ? ` · ${t("unattributed", { n: health.unattributed_quarantined })}` : "";
  document.getElementById("nodes-stamp").textContent = stamp + extra;
  document.getElementById("nodes").dataset.asOf = health.as_of;
}
