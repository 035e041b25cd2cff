// The county dashboard: state (kept in the URL's hash), loading, the as-of picker and the language switch.
import { busy, clearError, showError } from "./api.js";
import { loadAlerts } from "./alerts.js";
import { loadFigures } from "./figures.js";
import { applyStatic, lang, setLang } from "./i18n.js";
import { REFRESH_MS, loadNodes } from "./nodes.js";
import { loadCard, loadRoster } from "./roster.js";

const state = { asOf: "", township: null, village: null, offset: 0, member: null, townshipName: null };
const HASHED = { asOf: "as_of", township: "township", village: "village", offset: "offset", member: "member" };

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

function renderAlerts() {
  return run(loadAlerts(state, renderAlerts));
}

function renderAll() {
  applyStatic();
  document.getElementById("lang").textContent = lang === "zh" ? "English" : "中文";
  document.getElementById("as-of").value = state.asOf;
  return run(renderRoster(), loadFigures(state), loadNodes());
}

document.addEventListener("tx:navigate", (e) => {
  const change = e.detail;
  if ("township" in change || "village" in change) {
    Object.assign(state, { offset: 0, ...change });
  } else {
    Object.assign(state, change);
  }
  writeHash();
  if ("member" in change && Object.keys(change).length === 1) serial(() => run(loadCard(state)));
  else serial(renderRoster);
});

document.getElementById("as-of").addEventListener("change", (e) => {
  state.asOf = e.target.value;
  state.offset = 0;
  writeHash();
  serial(renderAll);
});
document.getElementById("as-of-clear").addEventListener("click", () => {
  state.asOf = "";
  writeHash();
  serial(renderAll);
});
document.getElementById("lang").addEventListener("click", () => {
  setLang(lang === "zh" ? "en" : "zh");
  serial(renderAll);
});

setLang(lang);
readHash();
serial(renderAll);
setInterval(() => run(loadNodes()), REFRESH_MS);
