// Pioneer, fund and education figures as charts (Chart.js, served by the county) over time and by mode.
import { fmtInt, get, h, url, wan } from "./api.js";
import { t } from "./i18n.js";

const SOURCES = ["fiscal", "dues_rebate", "member_donation", "org_raised", "host_subsidy"];
const TRAINING = ["on_site", "cloud", "special"];
const COLORS = ["#c0392b", "#e67e22", "#f1c40f", "#27ae60", "#2980b9", "#8e44ad", "#7f8c8d"];
const charts = {};

// People counts of the pioneer figure: [label key, section, field].
const PIONEER = [
  ["jobs_placed", "jobs.placed", "people"],
  ["legal_consulted", "legal.consulted", "people"],
  ["service_provided", "service.provided", "people"],
  ["enterprise_founded", "enterprise.founded", "households"],
  ["returnee_jobs", "returnee.invested", "jobs"],
];

function groupName(g) {
  return g.key === null ? g.name : (t(g.key) === g.key ? g.name : t(g.key)); // modes get their label
}

function draw(id, type, groups, series, options = {}) {
  const labels = groups.map(groupName);
  const datasets = series.map(([label, pick, extra], i) => ({
    label,
    data: groups.map(pick),
    backgroundColor: COLORS[i % COLORS.length],
    borderColor: COLORS[i % COLORS.length],
    ...(options.dataset ?? {}),
    ...(extra ?? {}),
  }));
  const config = {
    type,
    data: { labels, datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: { x: { stacked: !!options.stacked }, y: { stacked: !!options.stacked, beginAtZero: true } },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
    },
  };
  charts[id]?.destroy();
  charts[id] = new window.Chart(document.getElementById(id), config);
  document.getElementById(id).dataset.points = JSON.stringify(datasets.map((d) => d.data));
}

function kpis(funds, pioneer, education) {
  const p = pioneer.total;
  const tile = (label, value, unit, id) => h("div", { class: "tile", "data-kpi": id }, h("b", {}, value), h("span", {}, `${label}${unit ? ` (${unit})` : ""}`));
  const cov = education.total.coverage;
  return [
    tile(t("received_total"), fmtInt(wan(funds.total.received_total), 1), t("wan"), "received_total"),
    tile(t("balance"), fmtInt(wan(funds.total.balance), 1), t("wan"), "balance"),
    tile(t("returnee_amount"), fmtInt(wan(p["returnee.invested"].amount_fen), 1), t("wan"), "returnee_amount"),
    tile(t("jobs_placed"), fmtInt(p["jobs.placed"].people), t("people"), "jobs_placed"),
    tile(t("legal_consulted"), fmtInt(p["legal.consulted"].people), t("people"), "legal_consulted"),
    tile(t("recovered"), fmtInt(wan(p["dispute.mediated"].recovered_fen), 1), t("wan"), "recovered"),
    tile(t("donation_amount"), fmtInt(wan(p["donation.made"].amount_fen), 1), t("wan"), "donation_amount"),
    tile(t("chamber_funds"), fmtInt(wan(p["chamber.funds_raised"].amount_fen), 1), t("wan"), "chamber_funds"),
    // coverage of the roster as it stood at the date (or now), in that date's year
    tile(t("coverage"), cov?.rate === null || cov === undefined ? "–" : `${Math.round(cov.rate * 1000) / 10}%`, cov?.year, "coverage"),
    ...COUNTS.map(([id, section, pick, unit]) => tile(t(id), fmtInt(pick(p[section])), t(unit), id)),
  ];
}

// How many, as the report counts them: [label key, section, value, unit key].
const COUNTS = [
  ["enterprises_founded", "enterprise.founded", (x) => x.events, "u_companies"],
  ["households_enriched", "enterprise.founded", (x) => x.households, "u_households"],
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
  const sources = SOURCES.map((s) => [t(s), (g) => wan(g.received[s])]);
  draw("c-funds-month", "bar", fm.groups, [...sources], { stacked: true });
  draw("c-funds-mode", "bar", fo.groups, [...sources, [t("spent"), (g) => wan(g.spent)]]);
  const people = PIONEER.map(([label, section, f]) => [t(label), (g) => g[section][f] ?? 0]);
  draw("c-pioneer-month", "line", pm.groups, people, { dataset: { tension: 0.25 } });
  draw("c-pioneer-mode", "bar", po.groups, people);
  const training = TRAINING.map((m) => [t(m), (g) => g.training.by_mode[m].attendances]);
  draw("c-education-month", "bar", em.groups, [...training, [t("orglife_sessions"), (g) => g.orglife.sessions, { stack: "orglife" }]], { stacked: true });
  const pct = (r) => (r === null || r === undefined ? 0 : Math.round(r * 1000) / 10);
  draw("c-education-mode", "bar", eo.groups, [
    [`${t("coverage")} %`, (g) => pct(g.coverage?.rate)],
    [`${t("study_rate")} %`, (g) => pct(g.study_accounts?.rate)],
  ]);
  const links = [h("a", { href: url("api/v1/export/figures.xlsx", { ...base, group_by: "month" }), download: "", "data-testid": "figures-xlsx" }, t("export_xlsx"))];
  for (const f of ["funds", "pioneer", "education"]) {
    const href = url("api/v1/export/figures.csv", { ...base, group_by: "month", figure: f });
    links.push(h("a", { href, download: "", "data-testid": `figures-csv-${f}` }, t(`csv_${f}`)));
  }
  document.getElementById("figure-exports").replaceChildren(...links);
}
