// The outstation page's 最近记录: this node's records, newest first (GET /api/v1/records), each
// with 更正 (its form opened, prefilled with the record as it stands; submitted as a
// record.corrected) and 作废 (with a reason; a record.voided). The original stays in the log and
// at the county, which shows both. Loaded before outstation.js: it uses that file's `state`,
// `api`, `el`, `selectForm` and `cst` only when called.
"use strict";

const RECORDS_PAGE = 20;
const records = { items: [], next: null };
const REASON = { path: "reason", label: "更正原因", kind: "text", required: true, placeholder: "如 金额录入错误" };
const FIX_NAMES = { "record.corrected": "更正", "record.voided": "作废" };

function formOf(type) { return FORMS.find((f) => f.type === type); }
function typeName(type) { return FIX_NAMES[type] || (formOf(type) || {}).title || type; }

function fenToYuan(fen) {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

function valueAt(fields, path) {
  return path.split(".").reduce((v, p) => (v && typeof v === "object" ? v[p] : undefined), fields);
}

// A field's value as the clerk reads it: 元, option labels, member names.
function shownValue(f, value, names) {
  if (value === null || value === undefined || value === "") return null;
  if (f.kind === "yuan") return `${fenToYuan(value)} 元`;
  if (f.kind === "select") return (f.options.find(([v]) => v === value) || [value, value])[1];
  if (f.kind === "member") return names[value] || value;
  if (f.kind === "org") return orgName(value); // the county's tree, when the node has it (pickers.js)
  if (f.kind === "members") return `${value.length} 人：${value.slice(0, 5).map((m) => (names[m] || m).replace(/（.*$/, "")).join("、")}${value.length > 5 ? " 等" : ""}`;
  return String(value);
}

function summary(r) {
  if (FIX_NAMES[r.type]) return `第 ${r.corrects} 条：${r.reason}`;
  const form = formOf(r.type);
  if (!form) return "";
  const personal = r.fields.personal;
  const parts = personal ? [`${personal.name}（尾号${personal.id_tail}）`] : [];
  for (const f of form.fields) {
    if (f.path.startsWith("personal.")) continue;
    const shown = shownValue(f, valueAt(r.fields, f.path), r.names);
    if (shown !== null) parts.push(`${f.label.replace(/（.*?）$/, "")} ${shown}`);
  }
  return parts.join(" · ");
}

async function loadRecords(more = false) {
  const params = new URLSearchParams({ limit: String(RECORDS_PAGE) });
  if (more && records.next) params.set("before", String(records.next));
  const { status, body } = await api(`/api/v1/records?${params}`);
  if (status !== 200 || !body) return;
  records.items = more ? [...records.items, ...body.records] : body.records;
  records.next = body.next_before;
  renderRecords();
}

function renderRecords() {
  $("#records-list").replaceChildren(...(records.items.length
    ? records.items.map(recordItem)
    : [el("li", { className: "hint", textContent: "本站还没有记录。" })]));
  $("#records-more").hidden = !records.next;
}

function recordItem(r) {
  const badge = r.state === "voided" ? "已作废" : r.state === "corrected" ? "已更正" : "";
  const why = r.corrections.map((c) => `${c.voids ? "作废" : "更正"}（第 ${c.seq} 条，${cst(c.occurred_at)}）：${c.reason}`);
  const li = el("li", { className: `record${r.state ? ` ${r.state}` : ""}`, "data-seq": String(r.seq), "data-type": r.type },
    el("div", { className: "record-head" },
      el("span", { className: "record-seq", textContent: `第 ${r.seq} 条` }),
      el("b", { textContent: typeName(r.type) }),
      el("time", { textContent: cst(r.occurred_at) }),
      badge ? el("span", { className: "badge", textContent: badge }) : ""),
    el("div", { className: "record-summary", textContent: summary(r) }),
    ...why.map((w) => el("div", { className: "record-fix", textContent: w })));
  const actions = el("div", { className: "record-actions" });
  if (r.correctable && formOf(r.type)) {
    actions.append(el("button", { type: "button", className: "secondary", textContent: "更正", onclick: () => startCorrection(r) }));
  }
  if (r.voidable) {
    actions.append(el("button", { type: "button", className: "secondary", textContent: "作废", onclick: () => askVoid(li, r) }));
  }
  li.append(actions);
  return li;
}

// ---- 更正: the record's form, prefilled; submitted as record.corrected --------------------------

function startCorrection(r) {
  const form = formOf(r.type);
  // personal data is not corrected here (信息变更 does it); the reason is the correction's own
  const fields = [...form.fields.filter((f) => !f.path.startsWith("personal.")), REASON];
  selectForm({ ...form, fields, correcting: r });
  document.querySelector(".forms").scrollIntoView({ block: "start" });
}

// Called by renderForm when the form is a correction: the banner, the fields as the record stands.
function showCorrection() {
  const r = state.form.correcting;
  $("#correction").hidden = !r;
  $("#submit").textContent = r ? "记录更正" : "记录";
  if (!r) return;
  $("#correction-text").textContent = `正在更正第 ${r.seq} 条「${typeName(r.type)}」（${cst(r.occurred_at)}）：`
    + "改好后点「记录更正」。原记录保留，县里同时看到原记录和更正。";
  if (formOf(r.type).fields.some((f) => f.path.startsWith("personal."))) {
    $("#form-hint").textContent = "姓名、身份证号、手机号不能在这里更正，请用「信息变更」。";
  }
  for (const f of state.form.fields) prefill(f, valueAt(r.fields, f.path));
  const occurred = document.querySelector('[data-path="occurred_at"] input');
  occurred.value = cst(r.occurred_at).replace(" ", "T");
  occurred.disabled = true;
  occurred.parentElement.querySelector("small").textContent = "发生时间不能更正；如有误，请作废后重新记录。";
}

function prefill(f, value) {
  const box = document.querySelector(`[data-path="${f.path}"]`);
  if (!box || value === null || value === undefined) return;
  if (f.kind === "members") {
    box.querySelectorAll("input[type=checkbox]").forEach((c) => { c.checked = value.includes(c.value); });
    const checks = box.querySelector(".checks");
    const shown = new Set([...box.querySelectorAll("input[type=checkbox]")].map((c) => c.value));
    for (const id of value.filter((v) => !shown.has(v))) { // attendees no longer offered (returned since)
      const m = ref.members.find((x) => x.member_id === id);
      checks.append(el("label", { "data-name": m ? m.name : id },
        el("input", { type: "checkbox", value: id, checked: true }), ` ${m ? memberLabel(m) : id}`));
    }
    checks.dispatchEvent(new Event("change", { bubbles: true }));
    return;
  }
  if (f.kind === "member") { prefillMember(box, String(value)); return; }
  const input = box.querySelector("input, select, textarea");
  input.value = f.kind === "yuan" ? fenToYuan(value) : String(value);
  if (f.kind === "org") { input.dataset.value = String(value); input.value = orgName(String(value)); }
}

// A correction keeps its member (another member is a void and a new record): the picker shows
// that member — offered even where the member's status now keeps them off this form — and is fixed.
function prefillMember(box, memberId) {
  const select = box.querySelector("select");
  if (![...select.options].some((o) => o.value === memberId)) {
    const m = ref.members.find((x) => x.member_id === memberId) || state.members.find((x) => x.member_id === memberId);
    select.append(el("option", { value: memberId, textContent: m ? memberLabel(m) : memberId }));
  }
  select.value = memberId;
  select.disabled = true;
  const search = box.querySelector(".picker-search");
  if (search) search.hidden = true;
}

// The form's item as a correction of the record being corrected (unchanged otherwise).
function asCorrection(item) {
  const r = state.form && state.form.correcting;
  if (!r) return item;
  const { reason, ...fields } = item.payload;
  const replacement = { ...(r.carry || {}), ...fields, type: r.type };
  const payload = { target_seq: r.seq, target_event_id: r.event_id, replacement };
  if (reason !== undefined) payload.reason = reason;
  return { type: "record.corrected", occurred_at: "", payload };
}

// After a record (or a correction) was accepted: back to the plain form, the list again.
async function recordsChanged() {
  if (state.form.correcting) selectForm(formOf(state.form.type));
  await loadRecords();
}

// ---- 作废: a reason, then record.voided ----------------------------------------------------

function askVoid(li, r) {
  if (li.querySelector(".void-box")) return;
  const reason = el("input", { type: "text", maxLength: 500, placeholder: "作废原因，如 重复录入", className: "void-reason" });
  const error = el("div", { className: "error", role: "alert" });
  const confirm = el("button", { type: "button", textContent: "确认作废", onclick: () => voidRecord(r, reason, error) });
  const cancel = el("button", { type: "button", className: "secondary", textContent: "取消", onclick: () => box.remove() });
  const box = el("div", { className: "void-box" }, reason, confirm, cancel, error);
  li.append(box);
  reason.focus();
}

async function voidRecord(r, reason, error) {
  const payload = { target_seq: r.seq, target_event_id: r.event_id, target_type: r.type, reason: reason.value.trim() };
  if (!payload.reason) { error.textContent = "请填写作废原因"; return; }
  const { status, body } = await api("/api/v1/events", {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ type: "record.voided", payload }),
  });
  if (status === 201) {
    await loadRecords();
    refreshStatus();
    return;
  }
  const detail = (body && body.detail) || [];
  error.textContent = detail.length ? detail.map((e) => chineseMessage(e.message)).join("；") : "未作废，请稍后再试。";
}

function initRecords() {
  $("#records-more").addEventListener("click", () => loadRecords(true));
  $("#correction-cancel").addEventListener("click", () => selectForm(formOf(state.form.type)));
}
