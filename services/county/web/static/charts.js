// One figure's chart (Chart.js, vendored): a time axis with every month (a month without data is
// 0), one unit per y axis (a second axis on the right for a second unit), money in 万元 or 亿元
// by the largest amount, and "无数据" instead of an empty 0–1 axis.
import { h } from "./api.js";
import { t } from "./i18n.js";
import { inUnit, moneyUnit, unitWord } from "./units.js";

const COLORS = ["#c0392b", "#e67e22", "#f1c40f", "#27ae60", "#2980b9", "#8e44ad", "#7f8c8d"];
const MONTH = /^\d{4}-\d{2}$/;
const charts = {};

// Every month from the first key to the last ("2019-12" … "2020-03"), then the keys that are no month.
export function everyMonth(keys) {
  const months = keys.filter((k) => MONTH.test(k ?? "")).sort();
  const rest = keys.filter((k) => !MONTH.test(k ?? ""));
  if (!months.length) return rest;
  const out = [];
  let [y, m] = months[0].split("-").map(Number);
  const [ly, lm] = months[months.length - 1].split("-").map(Number);
  while (y < ly || (y === ly && m <= lm)) {
    out.push(`${y}-${String(m).padStart(2, "0")}`);
    [y, m] = m === 12 ? [y + 1, 1] : [y, m + 1];
  }
  return [...out, ...rest];
}

function groupName(g) {
  if (g.key === null) return t("no_group"); // the API's "(无)"
  return t(g.key) === g.key ? g.name : t(g.key); // modes get their label
}

// The chart's columns: the groups as they come, or (by month) every month, a missing one null.
function columns(groups, months) {
  if (!months) return { labels: groups.map(groupName), rows: groups };
  const byKey = new Map(groups.map((g) => [g.key, g]));
  const keys = everyMonth(groups.map((g) => g.key));
  return { labels: keys.map((k) => (k === null ? t("no_group") : k)), rows: keys.map((k) => byKey.get(k) ?? null) };
}

// The unit of an axis: a fixed unit key, or for money the one its largest amount (stacked: sum) needs.
function axisUnit(axis, raw, stacked) {
  if (!axis.money) return axis.unit;
  const width = Math.max(0, ...raw.map((d) => d.length));
  const sums = Array.from({ length: width }, (_, i) => raw.map((d) => Math.abs(d[i])).reduce((a, b) => (stacked ? a + b : Math.max(a, b)), 0));
  return moneyUnit(Math.max(0, ...sums));
}

function placeholder(canvas, empty) {
  const box = canvas.parentElement;
  box.querySelector(".no-data")?.remove();
  canvas.hidden = empty;
  if (empty) box.append(h("p", { class: "no-data", "data-testid": "no-data" }, t("no_data")));
}

/* Draw `series` ([label key text, pick(group), axis id ("y" or "y2"), extra dataset options]) of
   `groups` on the canvas `id`. `axes`: {y: {unit} | {money: true}, y2: …}; `months`: a time axis.
   A chart without groups has no data; one whose values are all 0 too, unless it is of rates (0% is a rate). */
export function draw(id, type, groups, series, { axes, months = false, stacked = false, dataset = {} }) {
  const canvas = document.getElementById(id);
  const { labels, rows } = columns(groups, months);
  const raw = series.map(([, pick]) => rows.map((g) => (g === null ? 0 : pick(g) ?? 0)));
  const units = {};
  for (const [axisId, axis] of Object.entries(axes)) {
    const mine = raw.filter((_, i) => (series[i][2] ?? "y") === axisId);
    units[axisId] = axisUnit(axis, mine, stacked);
  }
  const datasets = series.map(([label, , axisId = "y", extra], i) => {
    const unit = units[axisId];
    const money = axes[axisId].money;
    return {
      label: `${label}（${unitWord(unit)}）`,
      data: raw[i].map((v) => (money ? inUnit(v, unit) : v)),
      yAxisID: axisId,
      backgroundColor: COLORS[i % COLORS.length],
      borderColor: COLORS[i % COLORS.length],
      ...dataset,
      ...(extra ?? {}),
    };
  });
  const scales = { x: { stacked } };
  for (const [axisId, unit] of Object.entries(units)) {
    scales[axisId] = {
      stacked,
      beginAtZero: true,
      position: axisId === "y" ? "left" : "right",
      grid: axisId === "y" ? {} : { drawOnChartArea: false },
      title: { display: true, text: unitWord(unit) },
      ...(unit === "%" ? { max: 100 } : {}),
      ...(axes[axisId].money ? {} : { ticks: { precision: 0 } }), // no 0.5 人次
    };
  }
  charts[id]?.destroy();
  delete charts[id];
  canvas.dataset.points = JSON.stringify(datasets.map((d) => d.data));
  canvas.dataset.units = JSON.stringify(Object.fromEntries(Object.entries(units).map(([k, u]) => [k, unitWord(u)])));
  const rates = Object.values(units).every((u) => u === "%");
  const empty = !labels.length || (!rates && raw.every((d) => d.every((v) => v === 0)));
  placeholder(canvas, empty);
  if (empty) return;
  const options = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    scales,
    plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
  };
  charts[id] = new window.Chart(canvas, { type, data: { labels, datasets }, options });
}
