// Units as the county's report gives them: the county serves them (GET api/v1/figures/units, from
// the exports' headers, services/county/exports/figure_units.py): 人, 人次, 次, 家 …, 元 for money,
// % for a rate. Money is shown in 万元 below 1 亿元 and in 亿元 from there (1,375,000 万元 → 137.5 亿元).
import { fmtInt, get, wan } from "./api.js";
import { t } from "./i18n.js";

const YI_FEN = 10 ** 10; // 1 亿元 = 10⁸ yuan = 10¹⁰ fen
let served = null;

// figure → dotted path → unit (the same for every date and county: asked once).
export function loadUnits() {
  served ??= get("api/v1/figures/units").catch((err) => {
    served = null;
    throw err;
  });
  return served;
}

// A unit in the page's language (人次 → "attendances" in English).
export function unitWord(unit) {
  return t(`unit.${unit}`);
}

// The money unit for amounts up to `maxFen`: 万元 or 亿元.
export function moneyUnit(maxFen) {
  return Math.abs(maxFen) >= YI_FEN ? "亿元" : "万元";
}

// Fen in the unit (万元 to 4 decimals, as `wan`; 亿元 to 4 decimals).
export function inUnit(fen, unit) {
  return unit === "亿元" ? Math.round(fen / 10 ** 6) / 10 ** 4 : wan(fen);
}

// A money amount for a tile: [the number as text, the unit's word].
export function money(fen) {
  const unit = moneyUnit(fen ?? 0);
  return [fmtInt(inUnit(fen ?? 0, unit), unit === "亿元" ? 2 : 1), unitWord(unit)];
}

// The y axes of series with these units: the first unit on the left ("y"), a second on the right ("y2").
export function axesFor(seriesUnits) {
  const distinct = [...new Set(seriesUnits)];
  if (distinct.length > 2) throw new Error(`one chart, more than two units: ${distinct.join(", ")}`);
  const ids = ["y", "y2"];
  return {
    axes: Object.fromEntries(distinct.map((u, i) => [ids[i], u === "元" ? { money: true } : { unit: u }])),
    axisOf: (u) => ids[distinct.indexOf(u)],
  };
}
