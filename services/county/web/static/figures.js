// Pioneer, fund and education figures as charts (Chart.js, served by the county) over time and by mode.
import { fmtInt, get, h, url } from "./api.js";
import { draw } from "./charts.js";
import { t } from "./i18n.js";
import { axesFor, loadUnits, money, unitWord } from "./units.js";

const SOURCES = ["fiscal", "dues_rebate", "member_donation", "org_raised", "host_subsidy"];
const TRAINING = ["on_site", "cloud", "special"];

// People counts of the pioneer figure: [label key, section, metric]; their units are the county's.
const PIONEER = [
  ["jobs_placed", "jobs.placed", "people"],
  ["legal_consulted", "legal.consulted", "people"],
  ["service_provided", "service.provided", "people"],
  ["households_enriched", "enterprise.founded", "households"],
  ["returnee_jobs", "returnee.invested", "jobs"],
];

// How many, as the report counts them: [label key, section, path within it]; units the county's.
const COUNTS = [
  ["jobs_placed", "jobs.placed", "people"],
  ["legal_consulted", "legal.consulted", "people"],
  ["enterprises_founded", "enterprise.founded", "events"],
  ["households_enriched", "enterprise.founded", "households"],
  ["returnee_enterprises", "returnee.invested", "events"],
  ["job_notices", "jobs.posted", "notices"],
  ["disputes", "dispute.mediated", "events"],
  ["chamber_companies", "chamber.member_joined", "by_kind.company.events"],
  ["chamber_persons", "chamber.member_joined", "by_kind.person.events"],
  ["chamber_projects", "chamber.project_launched", "events"],
];
const MONEY = [
  ["returnee_amount", "returnee.invested", "amount_fen"],
  ["recovered", "dispute.mediated", "recovered_fen"],
  ["donation_amount", "donation.made", "amount_fen"],
  ["chamber_funds", "chamber.funds_raised", "amount_fen"],
];

const at = (obj, path) => path.split(".").reduce((o, k) => o?.[k], obj);

function kpis(funds, pioneer, education, units) {
  const p = pioneer.total;
  const tile = (label, value, unit, id) => h("div", { class: "tile", "data-kpi": id }, h("b", {}, value), h("span", {}, `${label}${unit ? ` (${unit})` : ""}`));
  const cash = (id, fen) => tile(t(id), ...money(fen), id);
  const count = ([id, section, path]) => tile(t(id), fmtInt(at(p[section], path)), unitWord(units.pioneer[`${section}.${path}`]), id);
  const cov = education.total.coverage;
  return [
    cash("received_total", funds.total.received_total),
    cash("balance", funds.total.balance),
    ...MONEY.map(([id, section, path]) => cash(id, at(p[section], path))),
    // coverage of the roster as it stood at the date (or now), in that date's year
    tile(t("coverage"), cov?.rate === null || cov === undefined ? "–" : `${Math.round(cov.rate * 1000) / 10}%`, cov?.year, "coverage"),
    ...COUNTS.map(count),
  ];
}

// Series of one chart, each on the y axis of its unit (a second unit on a second axis).
function onAxes(series, unitsOf) {
  const { axes, axisOf } = axesFor(series.map((_, i) => unitsOf[i]));
  return { axes, series: series.map(([label, pick, extra], i) => [label, pick, axisOf(unitsOf[i]), extra]) };
}

// The organisations and their venues (the organisation tree has no business dates: always now).
async function orgTiles(asOf) {
  const [outstations, chambers] = await Promise.all([
    get("api/v1/orgs", { kind: "outstation" }),
    get("api/v1/orgs", { kind: "township_chamber" }),
  ]);
  const sum = (key) => outstations.items.reduce((n, o) => n + o[key], 0);
  const unit = (key) => [t(key), asOf ? t("live") : null].filter(Boolean).join(" · ");
  const tile = (id, value, key) =>
    h("div", { class: "tile", "data-kpi": id }, h("b", {}, fmtInt(value)), h("span", {}, `${t(id)} (${unit(key)})`));
  return [
    tile("outstations", outstations.total, "u_orgs"),
    tile("activity_venues", sum("venues"), "u_items"),
    tile("teaching_sites", sum("teaching_sites"), "u_items"),
    tile("chambers", chambers.total, "u_orgs"),
  ];
}

export async function loadFigures(state) {
  const base = { as_of: state.asOf };
  const [units, fm, fo, pm, po, em, eo] = await Promise.all([
    loadUnits(),
    get("api/v1/figures/funds", { ...base, group_by: "month" }),
    get("api/v1/figures/funds", { ...base, group_by: "mode" }),
    get("api/v1/figures/pioneer", { ...base, group_by: "month" }),
    get("api/v1/figures/pioneer", { ...base, group_by: "mode" }),
    get("api/v1/figures/education", { ...base, group_by: "month" }),
    get("api/v1/figures/education", { ...base, group_by: "mode" }),
  ]);
  const orgs = await orgTiles(state.asOf);
  document.getElementById("kpis").replaceChildren(...orgs, ...kpis(fm, pm, em, units));
  const sources = SOURCES.map((s) => [t(s), (g) => g.received[s]]);
  const funds = (list) => onAxes(list, list.map(() => units.funds.received_total));
  const f = funds(sources);
  draw("c-funds-month", "bar", fm.groups, f.series, { axes: f.axes, months: true, stacked: true });
  const fModes = funds([...sources, [t("spent"), (g) => g.spent]]);
  draw("c-funds-mode", "bar", fo.groups, fModes.series, { axes: fModes.axes });
  const people = onAxes(
    PIONEER.map(([label, section, metric]) => [t(label), (g) => g[section][metric] ?? 0]),
    PIONEER.map(([, section, metric]) => units.pioneer[`${section}.${metric}`]),
  );
  draw("c-pioneer-month", "line", pm.groups, people.series, { axes: people.axes, months: true, dataset: { tension: 0.25 } });
  draw("c-pioneer-mode", "bar", po.groups, people.series, { axes: people.axes });
  // training attendances (stacked by mode) and organisational life sessions, each on its unit's axis
  const taught = onAxes(
    [...TRAINING.map((m) => [t(m), (g) => g.training.by_mode[m].attendances]), [t("orglife_held"), (g) => g.orglife.sessions, { stack: "orglife" }]],
    [...TRAINING.map((m) => units.education[`training.by_mode.${m}.attendances`]), units.education["orglife.sessions"]],
  );
  draw("c-education-month", "bar", em.groups, taught.series, { axes: taught.axes, months: true, stacked: true });
  const pct = (r) => (r === null || r === undefined ? 0 : Math.round(r * 1000) / 10);
  const rates = onAxes(
    [[t("coverage"), (g) => pct(g.coverage?.rate)], [t("study_rate"), (g) => pct(g.study_accounts?.rate)]],
    [units.education["coverage.rate"], units.education["study_accounts.rate"]],
  );
  draw("c-education-mode", "bar", eo.groups, rates.series, { axes: rates.axes });
  const links = [h("a", { href: url("api/v1/export/figures.xlsx", { ...base, group_by: "month" }), download: "", "data-testid": "figures-xlsx" }, t("export_xlsx"))];
  for (const f of ["funds", "pioneer", "education"]) {
    const href = url("api/v1/export/figures.csv", { ...base, group_by: "month", figure: f });
    links.push(h("a", { href, download: "", "data-testid": `figures-csv-${f}` }, t(`csv_${f}`)));
  }
  document.getElementById("figure-exports").replaceChildren(...links);
}
