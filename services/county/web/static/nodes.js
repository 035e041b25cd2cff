// Node health, refreshed every few seconds (live: node health has no as_of).
import { fmtInt, fmtTime, get, h, table } from "./api.js";
import { t } from "./i18n.js";

export const REFRESH_MS = 5000;

function gaps(list) {
  return list.length ? list.map((g) => (g.from === g.to ? `${g.from}` : `${g.from}–${g.to}`)).join(", ") : "–";
}

export async function loadNodes() {
  const health = await get("api/v1/nodes");
  const rows = health.items.map((n) => {
    const r = n.last_receipt;
    const warn = n.held > 0 || n.quarantined > 0 || n.refused_claims > 0 || n.gaps.length > 0;
    return h(
      "tr",
      { "data-node-id": n.node_id, class: warn ? "warn" : null },
      h("td", { "data-col": "name", title: n.node_id }, n.name ?? n.node_id),
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
