// The roster's filters — outstation, host location, status and a name search — as a bar above the
// counts; every change goes through the navigation, so the filters live in the state and the URL.
import { get, h } from "./api.js";
import { t } from "./i18n.js";

export const STATUSES = ["out", "returned", "contact_lost", "transferred_out"];

function navigate(change) {
  document.dispatchEvent(new CustomEvent("tx:navigate", { detail: change }));
}

let outstations = null; // the county's outstations (for the filter), asked for once
async function outstationList() {
  outstations ??= get("api/v1/orgs", { kind: "outstation" }).then((found) => found.items);
  return outstations;
}

function choice(name, label, value, options, testid) {
  const select = h(
    "select",
    { "data-testid": testid, onchange: (e) => navigate({ [name]: e.target.value || null }) },
    h("option", { value: "" }, t("all")),
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)),
  );
  return h("label", {}, h("span", {}, label), select);
}

// Filters by outstation, host location, status and name: part of the state (and the URL), so they
// drive the counts, the member list and the exports alike (the name: the list and exports only).
export async function filterBar(state) {
  const stations = await outstationList();
  const hosts = [...new Set(stations.map((o) => o.host_location).filter(Boolean))].sort();
  const commit = (e) => navigate({ [e.target.dataset.field]: e.target.value.trim() || null });
  const text = (field, label, value, attrs) =>
    h("label", {}, h("span", {}, label), h("input", { "data-field": field, value: value ?? "", onchange: commit, ...attrs }));
  const clear = { status: null, outstation: null, hostLocation: null, name: null };
  document.getElementById("roster-filters").replaceChildren(
    choice("outstation", t("outstation"), state.outstation, stations.map((o) => [o.org_id, o.name]), "filter-outstation"),
    text("hostLocation", t("host_location"), state.hostLocation, { list: "host-locations", "data-testid": "filter-host", maxlength: 200 }),
    h("datalist", { id: "host-locations" }, hosts.map((x) => h("option", { value: x }))),
    choice("status", t("status"), state.status, STATUSES.map((x) => [x, t(x)]), "filter-status"),
    text("name", t("person_name"), state.name, { type: "search", placeholder: t("search_name"), "data-testid": "filter-name", maxlength: 50 }),
    h("button", { type: "button", "data-testid": "filter-clear", disabled: !filtered(state), onclick: () => navigate(clear) }, t("clear_filters")),
  );
}

export function filtered(state) {
  return Boolean(state.status || state.outstation || state.hostLocation || state.name);
}
