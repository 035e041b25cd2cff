// Units as the county's report gives them (services/county/exports/figure_labels.py, the exports'
// headers): people 人, attendances and consultations 人次, sessions 次; money in 万元 below
// 1 亿元 and in 亿元 from there (1,375,000 万元 → 137.5 亿元).
import { fmtInt, wan } from "./api.js";
import { t } from "./i18n.js";

const YI_FEN = 10 ** 10; // 1 亿元 = 10⁸ yuan = 10¹⁰ fen

// The money unit for amounts up to `maxFen`: "u_wan" or "u_yi".
export function moneyUnit(maxFen) {
  return Math.abs(maxFen) >= YI_FEN ? "u_yi" : "u_wan";
}

// Fen in the unit (万元 to 4 decimals, as `wan`; 亿元 to 4 decimals).
export function inUnit(fen, unit) {
  return unit === "u_yi" ? Math.round(fen / 10 ** 6) / 10 ** 4 : wan(fen);
}

// A money amount for a tile: [the number as text, the unit's word].
export function money(fen) {
  const unit = moneyUnit(fen ?? 0);
  return [fmtInt(inUnit(fen ?? 0, unit), unit === "u_yi" ? 2 : 1), t(unit)];
}

// The unit of each pioneer count the dashboard shows: [section, field] → unit key.
export const PIONEER_UNITS = {
  "jobs.placed.people": "u_people", // 帮助就业（人）
  "legal.consulted.people": "u_attendances", // 法律咨询（人次）
  "service.provided.people": "u_attendances", // 服务群众（人次）
  "enterprise.founded.households": "u_people", // 带富乡亲（人）
  "returnee.invested.jobs": "u_people", // 返乡创业带动就业（人）
};
