// Fetching from the county's query API (relative URLs: works behind a path prefix) and formatting.
import { lang, t } from "./i18n.js";

let pending = 0;
// "ready" only once no request is in flight after the chained ones have started (a macrotask later).
export function busy(delta) {
  pending += delta;
  if (pending > 0) document.body.dataset.ready = "0";
  else setTimeout(markReady, 0);
}

function markReady() {
  if (pending !== 0) return;
  document.body.dataset.ready = "1";
  if (!performance.getEntriesByName("tx:ready").length) performance.mark("tx:ready"); // first full render
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(`${status} ${JSON.stringify(detail)}`);
    this.status = status;
  }
}

export function url(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === "") continue;
    for (const one of Array.isArray(v) ? v : [v]) q.append(k, one);
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// GET path with params as JSON; the page is "ready" when no request is in flight.
export async function get(path, params = {}) {
  busy(1);
  try {
    const response = await fetch(url(path, params), { headers: { Accept: "application/json" } });
    if (response.status === 401) signInAgain();
    const body = await response.json();
    if (!response.ok) throw new ApiError(response.status, body.detail);
    return body;
  } finally {
    busy(-1);
  }
}

// Not signed in (or the session ended): to the sign-in page, and back here afterwards.
export function signInAgain() {
  location.assign(`login?next=${encodeURIComponent(location.pathname + location.hash)}`);
}

// Sign out: the session ends at the county (the CSRF value proves the request is this page's).
export async function signOut() {
  const csrf = localStorage.getItem("tongxin:csrf") || "";
  await fetch("api/v1/session", { method: "DELETE", headers: { "X-CSRF-Token": csrf } });
  localStorage.removeItem("tongxin:csrf");
  signInAgain();
}

export function showError(err) {
  const box = document.getElementById("error");
  box.textContent = t("load_error", { x: err.message });
  box.hidden = false;
  console.error(err);
}

export function clearError() {
  document.getElementById("error").hidden = true;
}

export function fmtInt(n, digits = 0) {
  if (n === null || n === undefined) return "–";
  return Number(n).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", { maximumFractionDigits: digits });
}

export function wan(fen) {
  return Math.round(fen / 100) / 10000; // fen → 10k yuan (万元)
}

// ONE date and ONE date-time format, in both languages: ISO order in China Standard Time
// (2024-05-01, 2024-05-01 14:03); a missing one is "–". A bare date (2019-03-01) stays as it is.
const CHINA = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});
const BARE_DATE = /^\d{4}-\d{2}-\d{2}$/;

function china(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  const p = Object.fromEntries(CHINA.formatToParts(d).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
}

export function fmtTime(iso) {
  if (!iso) return "–";
  if (BARE_DATE.test(iso)) return iso;
  const c = china(iso);
  return c ? `${c.date} ${c.time}` : String(iso);
}

export function fmtDate(iso) {
  if (!iso) return "–";
  if (BARE_DATE.test(iso)) return iso;
  return china(iso)?.date ?? String(iso);
}

// A small element builder: h("td", {class: "n"}, "12").
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// A header sits over its column: numeric (every body cell `td.n`) headers get `th.n` too.
export function table(el, head, rows) {
  const body = rows.flat();
  const numeric = (i) => body.length > 0 && body.every((r) => r.children[i]?.classList.contains("n"));
  const ths = head.map((x, i) => h("th", numeric(i) ? { class: "n" } : {}, x));
  el.replaceChildren(h("thead", {}, h("tr", {}, ths)), h("tbody", {}, rows));
}
