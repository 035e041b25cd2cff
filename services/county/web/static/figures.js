// Pioneer, fund and education figures as charts (Chart.js, served by the county) over time and by mode.
import { fmtInt, get, h, url } from "./api.js";
import { draw } from "./charts.js";
import { t } from "./i18n.js";
import { PIONEER_UNITS, money } from "./units.js";

const SOURCES = ["fiscal", "dues_rebate", "member_donation", "org_raised", "host_subsidy"];
const TRAINING = ["on_site", "cloud", "special"];

// People counts of the pioneer figure: [label key, section, field]; 人 on the left, 人次 on the right.
const PIONEER = [
  ["jobs_placed", "jobs.placed", "people"],
  ["legal_consulted", "legal.consulted", "people"],
  ["service_provided", "service.provided", "people"],
  ["households_enriched", "enterprise.founded", "households"],
  ["returnee_jobs", "returnee.invested", "jobs"],
];

function kpis(funds, pioneer, education) {
  const p = pioneer.total;
  const tile = (label, value, unit, id) => h("div", { class: "tile", "data-kpi": id }, h("b", {}, value), h("span", {}, `${label}${unit ? ` (${unit})` : ""}`));
  const cash = (id, fen) => tile(t(id), ...money(fen), id);
  const cov = education.total.coverage;
  return [
    cash("received_total", funds.total.received_total),
    cash("balance", funds.total.balance),
    cash("returnee_amount", p["returnee.invested"].amount_fen),
    tile(t("jobs_placed"), fmtInt(p["jobs.placed"].people), t(PIONEER_UNITS["jobs.placed.people"]), "jobs_placed"),
    tile(t("legal_consulted"), fmtInt(p["legal.consulted"].people), t(PIONEER_UNITS["legal.consulted.people"]), "legal_consulted"),
    cash("recovered", p["dispute.mediated"].recovered_fen),
    cash("donation_amount", p["donation.made"].amount_fen),
    cash("chamber_funds", p["chamber.funds_raised"].amount_fen),
    // coverage of the roster as it stood at the date (or now), in that date's year
    tile(t("coverage"), cov?.rate === null || cov === undefined ? "–" : `${Math.round(cov.rate * 1000) / 10}%`, cov?.year, "coverage"),
    ...COUNTS.map(([id, section, pick, unit]) => tile(t(id), fmtInt(pick(p[section])), t(unit), id)),
  ];
}

// How many, as the report counts them: [label key, section, value, unit key].
const COUNTS = [
  ["enterprises_founded", "enterprise.founded", (x) => x.events, "u_companies"],
  ["households_enriched", "enterprise.founded", (x) => x.households, PIONEER_UNITS["enterprise.founded.households"]],
  ["returnee_enterprises", "returnee.invested", (x) => x.events, "u_companies"],
  ["job_notices", "jobs.posted", (x) => x.notices, "u_notices"],
  ["disputes", "dispute.mediated", (x) => x.events, "u_cases"],
  ["chamber_companies", "chamber.member_joined", (x) => x.by_kind.company.events, "u_companies"],
  ["chamber_persons", "chamber.member_joined", (x) => x.by_kind.person.events, "people"],
  ["chamber_projects", "chamber.project_launched", (x) => x.events, "u_items"],
];

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
  const [fm, fo, pm, po, em, eo] = await Promise.all([
    get("api/v1/figures/funds", { ...base, group_by: "month" }),
    get("api/v1/figures/funds", { ...base, group_by: "mode" }),
    get("api/v1/figures/pioneer", { ...base, group_by: "month" }),
    get("api/v1/figures/pioneer", { ...base, group_by: "mode" }),
    get("api/v1/figures/education", { ...base, group_by: "month" }),
    get("api/v1/figures/education", { ...base, group_by: "mode" }),
  ]);
  const orgs = await orgTiles(state.asOf);
  document.getElementById("kpis").replaceChildren(...orgs, ...kpis(fm, pm, em));
  const cash = { y: { money: true } };
  const sources = SOURCES.map((s) => [t(s), (g) => g.received[s]]);
  draw("c-funds-month", "bar", fm.groups, sources, { axes: cash, months: true, stacked: true });
  draw("c-funds-mode", "bar", fo.groups, [...sources, [t("spent"), (g) => g.spent]], { axes: cash });
  const people = PIONEER.map(([label, section, f]) => {
    const axis = PIONEER_UNITS[`${section}.${f}`] === "u_people" ? "y" : "y2";
    return [t(label), (g) => g[section][f] ?? 0, axis];
  });
  const counted = { y: { unit: "u_people" }, y2: { unit: "u_attendances" } };
  draw("c-pioneer-month", "line", pm.groups, people, { axes: counted, months: true, dataset: { tension: 0.25 } });
  draw("c-pioneer-mode", "bar", po.groups, people, { axes: counted });
  // attendances (人次, stacked by mode) on the left, organisational life sessions (次) on the right
  const training = TRAINING.map((m) => [t(m), (g) => g.training.by_mode[m].attendances, "y"]);
  const sessions = [t("orglife_sessions"), (g) => g.orglife.sessions, "y2", { stack: "orglife" }];
  const taught = { y: { unit: "u_attendances" }, y2: { unit: "u_sessions" } };
  draw("c-education-month", "bar", em.groups, [...training, sessions], { axes: taught, months: true, stacked: true });
  const pct = (r) => (r === null || r === undefined ? 0 : Math.round(r * 1000) / 10);
  draw("c-education-mode", "bar", eo.groups, [
    [t("coverage"), (g) => pct(g.coverage?.rate)],
    [t("study_rate"), (g) => pct(g.study_accounts?.rate)],
  ], { axes: { y: { unit: "u_percent" } } });
  const links = [h("a", { href: url("api/v1/export/figures.xlsx", { ...base, group_by: "month" }), download: "", "data-testid": "figures-xlsx" }, t("export_xlsx"))];
  for (const f of ["funds", "pioneer", "education"]) {
    const href = url("api/v1/export/figures.csv", { ...base, group_by: "month", figure: f });
    links.push(h("a", { href, download: "", "data-testid": `figures-csv-${f}` }, t(`csv_${f}`)));
  }
  document.getElementById("figure-exports").replaceChildren(...links);
}
