// The county dashboard: state (kept in the URL's hash), loading, the as-of picker and the language switch.
import { busy, clearError, get, showError, signOut } from "./api.js";
import { loadAlerts } from "./alerts.js";
import { loadFigures } from "./figures.js";
import { applyStatic, lang, setLang, t } from "./i18n.js";
import { REFRESH_MS, loadNodes } from "./nodes.js";
import { loadCard, loadRoster } from "./roster.js";

const state = {
  asOf: "", township: null, village: null, offset: 0, member: null, townshipName: null, villageName: null,
  status: null, outstation: null, hostLocation: null, name: null,
};
const HASHED = {
  asOf: "as_of", township: "township", village: "village", offset: "offset", member: "member",
  status: "status", outstation: "outstation", hostLocation: "host_location", name: "name",
};
const FILTERS = ["status", "outstation", "hostLocation", "name"]; // the roster's filters: a change starts at page 1

function readHash() {
  const q = new URLSearchParams(location.hash.slice(1));
  for (const [k, name] of Object.entries(HASHED)) {
    const v = q.get(name);
    state[k] = k === "offset" ? Number(v ?? 0) || 0 : k === "asOf" ? v ?? "" : v;
  }
}

function writeHash() {
  const q = new URLSearchParams();
  for (const [k, name] of Object.entries(HASHED)) if (state[k]) q.set(name, state[k]);
  history.replaceState(null, "", `#${q}`);
}

// Renders run one after another, so that a slow answer never overwrites a newer choice.
let queue = Promise.resolve();
function serial(render) {
  busy(1);
  queue = queue.then(render).catch(showError).finally(() => busy(-1));
  return queue;
}

async function run(...loads) {
  clearError();
  try {
    await Promise.all(loads);
  } catch (err) {
    showError(err);
  }
}

function renderRoster() {
  return run(loadRoster(state).then(() => loadAlerts(state, renderAlerts)), loadCard(state));
}

// A card opened from a row further down (an alert) is brought into view.
function showCard() {
  const card = document.getElementById("card");
  if (state.member && !card.hidden) card.scrollIntoView({ block: "start" });
}

function renderAlerts() {
  return run(loadAlerts(state, renderAlerts));
}

// What each role's dashboard shows (the API refuses the rest with 403 anyway).
const PANELS = {
  analyst: ["roster", "alerts", "figures", "nodes"],
  township_officer: ["roster", "alerts", "figures"],
  operator: ["nodes"],
  auditor: [],
};
let shown = [];

// A past date is a historical view: said plainly above everything, with the way back to today.
function banner() {
  const box = document.getElementById("as-of-banner");
  box.hidden = !state.asOf;
  document.getElementById("as-of-banner-text").textContent = state.asOf ? t("as_of_banner", { d: state.asOf }) : "";
  document.body.dataset.asOf = state.asOf;
}

function backToToday() {
  state.asOf = "";
  state.offset = 0;
  writeHash();
  serial(renderAll);
}

function renderAll() {
  applyStatic();
  banner();
  document.getElementById("lang").textContent = lang === "zh" ? "English" : "中文";
  document.getElementById("as-of").value = state.asOf;
  const loads = [];
  if (shown.includes("roster")) loads.push(renderRoster());
  if (shown.includes("figures")) loads.push(loadFigures(state));
  if (shown.includes("nodes")) loads.push(loadNodes());
  return run(...loads);
}

async function start() {
  const me = await get("api/v1/session");
  shown = PANELS[me.role] || [];
  for (const id of ["roster", "alerts", "figures", "nodes"]) document.getElementById(id).hidden = !shown.includes(id);
  document.getElementById("none-for-role").hidden = shown.length > 0;
  const scope = me.township ? ` · ${me.township}` : "";
  document.getElementById("who").textContent = `${me.username}（${me.role_name}${scope}）`;
  await renderAll();
}

document.addEventListener("tx:navigate", (e) => {
  const change = e.detail;
  if ("township" in change || "village" in change || FILTERS.some((f) => f in change)) {
    Object.assign(state, { offset: 0, ...change });
  } else {
    Object.assign(state, change);
  }
  writeHash();
  if ("member" in change && Object.keys(change).length === 1) serial(() => run(loadCard(state)).then(showCard));
  else serial(renderRoster);
});

document.getElementById("as-of").addEventListener("change", (e) => {
  state.asOf = e.target.value;
  state.offset = 0;
  writeHash();
  serial(renderAll);
});
document.getElementById("as-of-clear").addEventListener("click", backToToday);
document.getElementById("as-of-today").addEventListener("click", backToToday);
document.getElementById("lang").addEventListener("click", () => {
  setLang(lang === "zh" ? "en" : "zh");
  serial(renderAll);
});

document.getElementById("sign-out").addEventListener("click", signOut);

setLang(lang);
readHash();
serial(start);
setInterval(() => shown.includes("nodes") && run(loadNodes()), REFRESH_MS);
