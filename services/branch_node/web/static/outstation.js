// The outstation page: record events on forms checked by the node as the clerk types,
// import a roster with a preview, and watch the node's status. Plain JS, no build step.
// The clerk signs in first (a password, or once the one-time code of `tongxin node init`);
// every write sends the session's CSRF token.
"use strict";

const $ = (sel) => document.querySelector(sel);
const state = { nodeId: "", members: [], form: FORMS[0], touched: new Set(), submitted: false, checks: 0 };
const auth = { csrf: null, entered: false, inFlight: new Set() };
let checkTimer = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const child of children) node.append(child);
  return node;
}

// Every request of the page: same origin only, the CSRF token on writes; a 401 outside signing
// in means the session is over (idle, signed out elsewhere, the node restarted): sign in again.
async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  const method = (options.method || "GET").toUpperCase();
  if (auth.csrf && method !== "GET") headers.set("X-CSRF-Token", auth.csrf);
  const signedIn = !!auth.csrf;
  // Signed out (or never in): nothing but the session itself is asked for, so a load or a poll
  // that was under way when the clerk signed out does not knock on the closed door.
  if (!signedIn && !path.startsWith("/api/v1/session")) {
    return { status: 401, body: null, headers: new Headers() };
  }
  const request = fetch(path, { ...options, headers, credentials: "same-origin" });
  auth.inFlight.add(request);
  let response;
  try { response = await request; } finally { auth.inFlight.delete(request); }
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (response.status === 401 && signedIn && auth.csrf && !path.startsWith("/api/v1/session")) {
    showSignIn("登录已失效，请重新登录。");
  }
  return { status: response.status, body, headers: response.headers };
}

// ---- signing in ----------------------------------------------------------------------------

function showOnly(id) {
  for (const s of ["#signin", "#setpw", "#workspace"]) $(s).hidden = s !== id;
  $("#signout").hidden = id === "#signin";
}

async function showSignIn(message) {
  auth.csrf = null;
  showOnly("#signin");
  $("#signin-error").textContent = message || "";
  let body = null;
  try { ({ body } = await api("/api/v1/session")); } catch { body = null; }
  const withPassword = !body || body.password_set;
  $("#signin-password-field").hidden = !withPassword;
  $("#signin-token-field").hidden = withPassword;
  $("#signin-hint").textContent = withPassword
    ? "请输入本站工作人员的登录密码。忘记密码请联系县里运维人员（tongxin node passwd）。"
    : "首次登录：请输入安装本站时打印的一次性登录码，登录后设置密码。";
  (withPassword ? $("#signin-password") : $("#signin-token")).focus();
}

async function signIn(event) {
  event.preventDefault();
  const withPassword = !$("#signin-password-field").hidden;
  const value = (withPassword ? $("#signin-password") : $("#signin-token")).value;
  if (!value.trim()) { $("#signin-error").textContent = withPassword ? "请输入密码。" : "请输入一次性登录码。"; return; }
  const item = withPassword ? { password: value } : { token: value.trim() };
  const { status, body, headers } = await api("/api/v1/session", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(item),
  });
  $("#signin-password").value = "";
  $("#signin-token").value = "";
  if (status === 201) {
    auth.csrf = body.csrf_token;
    $("#signin-error").textContent = "";
    if (body.setup) showOnly("#setpw"); else await enter();
  } else if (status === 429) {
    $("#signin-error").textContent = `登录失败次数过多，请 ${headers.get("retry-after") || 60} 秒后再试。`;
  } else if (status === 401) {
    $("#signin-error").textContent = withPassword ? "密码不对，请重新输入。" : "一次性登录码不对，或已经用过。";
  } else {
    $("#signin-error").textContent = "登录未成功，请稍后再试。";
  }
}

async function setPassword(event) {
  event.preventDefault();
  const password = $("#setpw-password").value;
  if ([...password].length < 10) { $("#setpw-error").textContent = "密码至少 10 个字符。"; return; }
  if (password !== $("#setpw-again").value) { $("#setpw-error").textContent = "两次输入的密码不一致。"; return; }
  const { status } = await api("/api/v1/session/password", {
    method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ password }),
  });
  $("#setpw-password").value = "";
  $("#setpw-again").value = "";
  if (status === 204) { $("#setpw-error").textContent = ""; await enter(); }
  else $("#setpw-error").textContent = status === 422 ? "密码不符合要求（10 至 1024 个字符）。" : "未能保存密码，请重新登录。";
}

// Sign out once what is under way has been answered (a status poll must not meet the ended session).
async function signOut() {
  const csrf = auth.csrf;
  auth.csrf = null;
  await Promise.allSettled([...auth.inFlight]);
  await api("/api/v1/session", { method: "DELETE", headers: { "X-CSRF-Token": csrf || "" } });
  showSignIn("已退出登录。");
}

// Time as the clerk reads it: China Standard Time, whatever the PC's zone.
function cst(iso) {
  if (!iso) return "";
  const t = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
  return t.toISOString().slice(0, 16).replace("T", " ");
}
function nowCst() { return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 16); }

// "1234.5" 元 → 123450 分, exactly (no floating point); null when it is not an amount.
function yuanToFen(text) {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(text.replace(/[,，\s]/g, ""));
  if (!m) return null;
  const fen = Number(m[2]) * 100 + Number((m[3] || "").padEnd(2, "0"));
  return m[1] ? -fen : fen;
}

// ---- forms ---------------------------------------------------------------------------------

function renderTabs() {
  const tabs = $("#tabs");
  const groups = [...new Set(FORMS.map((f) => f.group))];
  tabs.replaceChildren(...groups.map((g) => el("div", { className: "tab-group" },
    el("span", { className: "tab-group-name", textContent: g }),
    ...FORMS.filter((f) => f.group === g).map((f) => el("button", {
      type: "button", textContent: f.tab, className: f.key === state.form.key ? "tab active" : "tab",
      "data-form": f.key, onclick: () => selectForm(f),
    })))));
}

function selectForm(form) {
  state.form = form;
  state.touched.clear();
  state.submitted = false;
  renderTabs();
  renderForm();
}

function renderForm() {
  const form = state.form;
  $("#form-title").textContent = form.title;
  $("#form-hint").textContent = form.hint || "";
  $("#form-error").textContent = "";
  $("#form-result").textContent = "";
  $("#fields").replaceChildren(...[...form.fields, OCCURRED].map(renderField));
  showCorrection(); // records.js: a correction's banner and prefilled fields (nothing otherwise)
}

function renderField(f) {
  const id = `f-${f.path.replace(/\./g, "-")}`;
  let input = renderPicker(f, id); // organisations, members, attendees: pickers.js
  if (input) {
    // a picker
  } else if (f.kind === "select") {
    input = el("select", { id, name: f.path }, el("option", { value: "", textContent: "请选择" }),
      ...f.options.map(([v, label]) => el("option", { value: v, textContent: label })));
  } else if (f.kind === "note") {
    input = el("textarea", { id, name: f.path, rows: 2 });
  } else {
    const type = { date: "date", datetime: "datetime-local", int: "number" }[f.kind] || "text";
    input = el("input", { id, name: f.path, type, placeholder: f.placeholder || "" });
    if (f.kind === "yuan") { input.inputMode = "decimal"; input.placeholder = "如 5000 或 5000.50"; }
    if (f.kind === "int") input.step = "1";
    if (f.kind === "org" && f.mine) input.value = state.nodeId;
    if (f.kind === "datetime") input.value = nowCst();
  }
  const onEdit = () => { state.touched.add(f.path); scheduleCheck(); };
  input.addEventListener("input", onEdit);
  input.addEventListener("change", onEdit);
  const label = el("label", { htmlFor: id, textContent: f.label });
  if (f.required) label.append(el("span", { className: "req", textContent: " *" }));
  return el("div", { className: `field kind-${f.kind}`, "data-path": f.path }, label, input,
    el("small", { className: "hint", textContent: f.hint || "" }),
    el("div", { className: "error", "data-error-for": f.path, role: "alert" }));
}

// The event as the form stands, and what the page itself refuses (amounts it cannot read).
function collect() {
  const payload = {};
  const local = {};
  let occurredAt = "";
  for (const f of [...state.form.fields, OCCURRED]) {
    const box = document.querySelector(`[data-path="${f.path}"]`);
    let value;
    if (f.kind === "members") {
      value = [...box.querySelectorAll("input:checked")].map((c) => c.value);
      if (!value.length) continue;
    } else {
      const raw = (pickerValue(f, box) ?? box.querySelector("input, select, textarea").value).trim();
      if (raw === "") continue;
      value = raw;
      if (f.kind === "yuan") {
        value = yuanToFen(raw);
        if (value === null) { local[f.path] = "请填写金额（元），最多两位小数"; continue; }
      } else if (f.kind === "int") {
        value = /^-?\d+$/.test(raw) ? Number(raw) : raw;
      } else if (f.path === "personal.id_number") {
        value = raw.toUpperCase();
      }
    }
    if (f.kind === "datetime") { occurredAt = value; continue; }
    const parts = f.path.split(".");
    let target = payload;
    for (const p of parts.slice(0, -1)) target = target[p] = target[p] || {};
    target[parts[parts.length - 1]] = value;
  }
  return { item: asCorrection({ type: state.form.type, occurred_at: occurredAt, payload }), local };
}

function fieldFor(errorField) {
  const path = errorField.replace(/^payload\.(replacement\.)?/, "");
  const all = [...state.form.fields, OCCURRED];
  return all.find((f) => f.path === path) || all.find((f) => path.startsWith(`${f.path}.`));
}

function showErrors(errors, local) {
  document.querySelectorAll("[data-error-for]").forEach((e) => { e.textContent = ""; });
  document.querySelectorAll(".field.invalid").forEach((e) => e.classList.remove("invalid"));
  const loose = [];
  const put = (f, message) => {
    if (!state.submitted && !state.touched.has(f.path)) return;
    const box = document.querySelector(`[data-error-for="${f.path}"]`);
    if (box.textContent) return;
    box.textContent = chineseMessage(message, f);
    box.title = message;
    box.parentElement.classList.add("invalid");
  };
  for (const [path, message] of Object.entries(local)) put(fieldFor(path), message);
  for (const e of errors) {
    const f = fieldFor(e.field);
    if (f) put(f, e.message); else loose.push(`${e.field}: ${chineseMessage(e.message)}`);
  }
  $("#form-error").textContent = state.submitted ? loose.join("；") : "";
}

function scheduleCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(check, 250);
}

// Ask the node to check the event exactly as recording would; the newest answer wins.
async function check() {
  const n = ++state.checks;
  const { item, local } = collect();
  let body = null;
  try {
    ({ body } = await api("/api/v1/events/check", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(item),
    }));
  } catch {
    $("#form-error").textContent = "连不上本站节点，请稍后再试。";
    return null;
  }
  if (n !== state.checks || !body) return null;
  showErrors(body.errors, local);
  return { item, ok: body.ok && !Object.keys(local).length };
}

async function submit(event) {
  event.preventDefault();
  clearTimeout(checkTimer);
  state.submitted = true;
  $("#form-result").textContent = "";
  const checked = await check();
  if (!checked) return;
  if (!checked.ok) { $("#form-result").textContent = "未记录：请更正标红的内容。"; return; }
  let answer;
  try {
    answer = await api("/api/v1/events", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(checked.item),
    });
  } catch {
    $("#form-result").textContent = "未记录：连不上本站节点，请稍后再试。";
    return;
  }
  const { status, body } = answer;
  if (status === 201) {
    const title = state.form.correcting ? `更正第 ${state.form.correcting.seq} 条` : state.form.title;
    await loadMembers();
    selectForm(state.form);
    await recordsChanged(); // records.js: back to the plain form after a correction, the list again
    $("#form-result").textContent = `已记录「${title}」，序号 ${body.seq}。`;
    refreshStatus();
  } else {
    showErrors((body && body.detail) || [], {});
    $("#form-result").textContent = "未记录：节点拒绝了这条记录。";
  }
}

async function loadMembers() {
  const { body } = await api("/api/v1/members");
  if (body) state.members = body.members;
  await loadReference(); // the pickers' members and organisations (pickers.js)
}

// ---- status panel --------------------------------------------------------------------------

async function refreshStatus() {
  if (!auth.csrf) return;
  let st;
  // a background poll: it does not keep the session from going idle (8 h without the clerk)
  try { st = (await api("/api/v1/status", { headers: { "X-Background": "1" } })).body; } catch { st = null; }
  $("#status").classList.toggle("down", !st);
  if (!st) { $("#st-link").textContent = "节点无响应"; return; }
  if (!state.nodeId) {
    state.nodeId = st.node_id;
    showNames(st); // the header, and this node's organisation where a form wants it (pickers.js)
  }
  $("#st-recorded").textContent = st.last_seq;
  const fork = forkOf(st);
  showFork(fork);
  $("#st-confirmed").textContent = st.confirmed_seq;
  // "all reported" only when the county's receipt covers the head, and never on a fork
  $("#st-backlog").textContent = st.backlog || fork ? st.backlog : "0（已全部上报）";
  $("#st-backlog").className = `value${st.backlog || fork ? "" : " ok"}`;
  $("#st-unconfirmed").textContent = st.unconfirmed;
  $("#st-waiting").textContent = st.waiting;
  const r = st.last_receipt;
  $("#st-receipt").textContent = r
    ? `至序号 ${r.seq} · ${cst(r.issued_at)}${r.verified ? " · 已验签" : ""}${r.matches ? "" : " · ⚠ 与本站记录不符"}`
    : "尚无";
  const link = $("#st-link");
  if (fork) link.textContent = "上报已停止";
  else if (st.nats_connected === undefined) link.textContent = "未启动上报（仅本地记录）";
  else link.textContent = st.nats_connected ? "已连接" : "未连接（联网后自动上报）";
  link.title = st.last_error || "";
  link.className = `value small ${fork ? "bad" : st.nats_connected ? "ok" : "warn"}`;
  $("#st-ack").textContent = st.last_ack_at ? cst(st.last_ack_at) : "尚无";
}

// Why forwarding stopped: the log and the county's newest receipt disagree (`fork`), or the
// forwarder itself stopped (`forked`, only when served by `tongxin node serve`).
function forkOf(st) {
  if (st.fork) return st.fork;
  if (st.forked) return { seq: null, reason: st.forked };
  return null;
}

function showFork(fork) {
  $("#fork-banner").hidden = !fork;
  $("#status").classList.toggle("forked", !!fork);
  if (!fork) return;
  const at = fork.seq ? `（第 ${fork.seq} 条）` : "";
  $("#fork-text").textContent = `上报已停止：县里保存的本站记录与本机不一致${at}。`
    + "请联系县里运维，运行 tongxin node recover 恢复。";
  $("#fork-reason").textContent = `原因：${forkReason(fork.reason)}`;
  $("#fork-reason").title = fork.reason;
}

// The node's reasons (English, from its receipts) as a clerk reads them; others stay as they are.
function forkReason(reason) {
  let m = /^the county holds seq (\d+); this node's log ends at (\d+)$/.exec(reason);
  if (m) return `县里保存到第 ${m[1]} 条，本机记录只到第 ${m[2]} 条。`;
  m = /^the county holds seq (\d+) with another hash than this node's$/.exec(reason);
  if (m) return `县里保存的第 ${m[1]} 条与本机的第 ${m[1]} 条内容不同。`;
  return reason;
}

// ---- roster import ----------------------------------------------------------------------

const ROSTER_LABELS = Object.fromEntries(FORMS[0].fields.map((f) => [`payload.${f.path}`, f.label]));
Object.assign(ROSTER_LABELS, { "payload.member_id": "身份证号", occurred_at: "登记时间", file: "文件" });

// What only an import says (the node's words are English); the rest as the forms say it.
const IMPORT_MESSAGES = [
  [/^Excel stored the ID number as a number/, () => "Excel 把身份证号存成了数字，末几位已丢失：请把该列设为文本后重新输入"],
  [/gives a month, not a day: read as the 1st \((\d{4}-\d{2}-\d{2})\)$/, (m) => `只填了年月，按该月 1 日（${m[1]}）登记，请核对`],
  [/is not a day of the calendar$/, () => "日历上没有这一天，请核对"],
  [/is a year typed as a number/, () => "只有年份，不是日期：请写成 2019-03-01、2019/3/1 或 2019年3月1日"],
  [/is not a date: write it as/, () => "不是日期：请写成 2019-03-01、2019/3/1、2019.3.1 或 2019年3月1日"],
  [/^no rows to import: (\d+) already registered here$/, (m) => `没有要导入的行：${m[1]} 人已在本站登记`],
  [/^no rows to import$/, () => "文件中没有要导入的行"],
];

function importMessage(message) {
  for (const [pattern, say] of IMPORT_MESSAGES) {
    const m = pattern.exec(message);
    if (m) return say(m);
  }
  return chineseMessage(message);
}

function rosterUpload() {
  const file = $("#roster-file").files[0];
  if (!file) return null;
  const data = new FormData();
  data.append("file", file);
  data.append("type", "member.registered");
  data.append("skip_existing", $("#skip-existing").checked ? "true" : "false");
  return data;
}

// Every reason of every line, each as "第 n 行 · column: reason"; the node's words in the tooltip.
function importItems(list) {
  return list.map((e) => el("li", {
    textContent: `${e.line ? `第 ${e.line} 行 · ` : ""}${ROSTER_LABELS[e.field] || e.field}：${importMessage(e.message)}`,
    title: `${e.field}: ${e.message}`,
  }));
}

function showImportErrors(errors, warnings = []) {
  $("#import-errors").replaceChildren(...importItems(errors));
  $("#import-warnings").replaceChildren(...importItems(warnings));
}

function resetImport() {
  $("#import-btn").disabled = true;
  $("#import-summary").textContent = "";
}

async function preview() {
  const data = rosterUpload();
  $("#import-btn").disabled = true;
  if (!data) { $("#import-summary").textContent = "请先选择文件。"; return; }
  const { body } = await api("/api/v1/import/preview", { method: "POST", body: data });
  if (!body) return;
  const rows = body.rows.map((r) => {
    const f = r.fields;
    const p = f.personal || {};
    return el("tr", {}, ...[r.line, p.name, p.id_number, f.home_branch, f.outstation, f.host_location,
      f.flowed_out_on].map((v) => el("td", { textContent: v ?? "" })));
  });
  $("#preview-table tbody").replaceChildren(...rows);
  $("#preview-table").hidden = !rows.length;
  const warnings = body.warnings || [];
  showImportErrors(body.errors, warnings);
  const skipped = (body.skipped || []).length;
  const notes = [skipped ? `${skipped} 人已在本站登记，将跳过` : "", warnings.length ? `${warnings.length} 处提示，请核对` : ""]
    .filter(Boolean).map((t) => `；${t}`).join("");
  if (body.ok) $("#import-summary").textContent = `共 ${rows.length} 人，全部无误${notes}。确认后导入。`;
  else if (!body.errors.length && skipped) $("#import-summary").textContent = `全部 ${skipped} 人已在本站登记，无需导入。`;
  else $("#import-summary").textContent = `${body.errors.length} 处错误（${rows.length} 行无误${notes}），改正后重新预览；现在不会导入任何一行。`;
  $("#import-btn").disabled = !body.ok;
}

async function importRoster() {
  const data = rosterUpload();
  if (!data) return;
  $("#import-btn").disabled = true;
  const { status, body } = await api("/api/v1/import", { method: "POST", body: data });
  if (status === 201) {
    const skipped = body.skipped ? `，跳过已登记的 ${body.skipped} 人` : "";
    $("#import-summary").textContent = `已导入 ${body.count} 人（序号 ${body.first_seq}–${body.last_seq}）${skipped}。`;
    $("#preview-table").hidden = true;
    showImportErrors([]);
    $("#roster-file").value = "";
    await loadMembers();
    renderForm();
    refreshStatus();
    loadRecords();
  } else {
    showImportErrors((body && body.detail) || []);
    $("#import-summary").textContent = "未导入：名册有错误，没有任何一行被导入。";
  }
}

// ---- start ---------------------------------------------------------------------------------

// A request the node did not answer (it is down or restarting): say so, the status panel retries.
window.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  $("#status").classList.add("down");
  $("#st-link").textContent = "节点无响应";
});

// Into the workspace, once signed in: the listeners first (once), then the page is filled, and
// only then shown, so nothing on it can be clicked before it answers; the status poll is set once.
async function enter() {
  if (!auth.entered) {
    auth.entered = true;
    initRecords();
    $("#event-form").addEventListener("submit", submit);
    $("#event-form").addEventListener("reset", (e) => { e.preventDefault(); selectForm(state.form); });
    $("#preview-btn").addEventListener("click", preview);
    $("#import-btn").addEventListener("click", importRoster);
    $("#roster-file").addEventListener("change", resetImport);
    $("#skip-existing").addEventListener("change", resetImport);  // preview again with the option
    setInterval(refreshStatus, 3000);
  }
  try {
    await refreshStatus();
    await loadMembers();
    renderTabs();
    renderForm();
    await loadRecords();
  } finally {
    if (auth.csrf) showOnly("#workspace");
  }
}

async function start() {
  $("#signin-form").addEventListener("submit", signIn);
  $("#setpw-form").addEventListener("submit", setPassword);
  $("#signout").addEventListener("click", signOut);
  const { body } = await api("/api/v1/session");
  if (body && body.signed_in) {
    auth.csrf = body.csrf_token;
    if (body.setup) showOnly("#setpw"); else await enter();
  } else {
    showSignIn("");
  }
}

start();
