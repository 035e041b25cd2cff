// Pickers of the outstation page: organisations chosen by their Chinese names (the value sent is
// the code), members by name (only those who can take the form's event), attendees with search and
// select-all. The data is the node's own (its members, and the county's tree and co-managed members
// it cached), so the pickers work with the network down. Plain JS, no build step.
"use strict";

const ref = { orgs: [], byId: new Map(), members: [], county: null, node: null, status: null };
const ACTIVE = ["out", "contact_lost"];
const MAX_SHOWN = 30;
const byName = (a, b) => a.name.localeCompare(b.name, "zh-CN") || (a.org_id || a.member_id).localeCompare(b.org_id || b.member_id);

// The county's tree and the members a clerk may pick, from the node (no network needed).
async function loadReference() {
  const [orgs, members] = await Promise.all([
    api("/api/v1/reference/orgs?limit=5000"), api("/api/v1/reference/members?limit=5000"),
  ]);
  if (orgs.body) {
    ref.orgs = orgs.body.items.slice().sort(byName);
    ref.byId = new Map(ref.orgs.map((o) => [o.org_id, o]));
    ref.county = orgs.body.county;
    ref.node = orgs.body.node;
  }
  if (members.body) ref.members = members.body.items.slice().sort(byName);
  if (ref.status) showNames(ref.status);
}

// The header: the outstation's and the county's Chinese names once the tree is cached.
function showNames(st) {
  ref.status = st;
  const codes = `站点 ${st.node_id} · 县 ${st.county_id}`;
  const here = ref.node && ref.node.name;
  $("#node-name").textContent = here ? `${here} · ${(ref.county && ref.county.name) || st.county_id}` : codes;
  $("#node-name").title = here ? codes : "";
  for (const f of state.form.fields.filter((x) => x.kind === "org" && x.mine)) {
    const input = document.querySelector(`[data-path="${f.path}"] input`);
    if (input && !input.value) { input.value = orgName(st.node_id); input.dataset.value = st.node_id; }
  }
}

function orgName(id) {
  const o = ref.byId.get(id);
  return o ? o.name : id;
}

function matches(query, ...texts) {
  const q = query.trim().toLowerCase();
  return !q || texts.some((t) => (t || "").toLowerCase().includes(q));
}

// ---- organisations: a text box that suggests by name or code ---------------------------------

function orgOptions(f) {
  return ref.orgs.filter((o) => !f.orgs || f.orgs.includes(o.kind));
}

// What a typed text stands for: an option's exact code or exact name; "" if none.
function resolveOrg(f, text) {
  const t = text.trim();
  const found = orgOptions(f).find((o) => o.org_id === t || o.name === t);
  return found ? found.org_id : "";
}

function orgPicker(f, id) {
  const input = el("input", { id, name: f.path, type: "text", autocomplete: "off", spellcheck: false });
  const list = el("ul", { className: "picker-list", role: "listbox", id: `${id}-list` });
  list.hidden = true;
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  const box = el("div", { className: "picker org-picker" }, input, list);
  const options = orgOptions(f);
  input.placeholder = options.length ? "输入中文名称或代码搜索，从列表中选择" : (f.placeholder || "");
  const choose = (o) => {
    input.value = o.name;
    input.dataset.value = o.org_id;
    input.title = o.org_id;
    close();
    input.dispatchEvent(new Event("change", { bubbles: true }));
  };
  const close = () => { list.hidden = true; input.setAttribute("aria-expanded", "false"); };
  const open = () => {
    const found = options.filter((o) => matches(input.value, o.name, o.org_id)).slice(0, MAX_SHOWN);
    list.replaceChildren(...found.map((o, i) => {
      const item = el("li", { role: "option", className: i ? "" : "active", "data-value": o.org_id },
        el("span", { className: "picker-name", textContent: o.name }),
        el("span", { className: "picker-meta", textContent: [o.parent_name, o.host_location, o.org_id].filter(Boolean).join(" · ") }));
      item.addEventListener("mousedown", (e) => { e.preventDefault(); choose(o); });
      return item;
    }));
    if (!found.length) list.append(el("li", { className: "picker-empty", textContent: "没有匹配的组织" }));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  };
  const move = (step) => {
    const items = [...list.querySelectorAll("li[role=option]")];
    if (!items.length) return;
    const at = items.findIndex((li) => li.classList.contains("active"));
    items.forEach((li) => li.classList.remove("active"));
    items[(at + step + items.length) % items.length].classList.add("active");
  };
  input.addEventListener("input", () => {
    input.dataset.value = resolveOrg(f, input.value);
    if (options.length) open();
  });
  input.addEventListener("focus", () => { if (options.length) open(); });
  input.addEventListener("blur", close);
  input.addEventListener("keydown", (e) => {
    if (list.hidden) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") { e.preventDefault(); move(e.key === "ArrowDown" ? 1 : -1); }
    else if (e.key === "Escape") close();
    else if (e.key === "Enter") {
      const active = list.querySelector("li.active");
      if (active) { e.preventDefault(); choose(ref.byId.get(active.dataset.value)); }
    }
  });
  const mine = f.mine && ((ref.node && ref.node.org_id) || state.nodeId);
  if (mine) {
    const o = ref.byId.get(mine);
    input.value = o ? o.name : mine;
    input.dataset.value = mine;
  }
  return box;
}

// ---- members: a search box over a list sorted by name ----------------------------------------

function memberLabel(m) {
  const parts = [orgName(m.home_branch)];
  if (m.id_tail) parts.push(`尾号${m.id_tail}`);
  parts.push(STATUS_NAMES[m.status] || m.status);
  return `${m.name}（${parts.join(" · ")}）`;
}

// Members who can take this field's event: this node's own for an event about one member (the
// node records those only for members it registered), own and co-managed ones as attendees.
function memberOptions(f) {
  const statuses = f.statuses || (f.kind === "members" ? ACTIVE : null);
  return ref.members.filter((m) => (f.kind === "members" || m.source === "own")
    && (!statuses || statuses.includes(m.status)));
}

function memberPicker(f, id) {
  const options = memberOptions(f);
  const select = el("select", { id, name: f.path },
    el("option", { value: "", textContent: f.required ? "请选择党员" : "（不填）" }),
    ...options.map((m) => el("option", { value: m.member_id, textContent: memberLabel(m) })));
  const search = el("input", { type: "search", className: "picker-search", id: `${id}-search`, placeholder: "输入姓名搜索" });
  search.addEventListener("input", () => {
    let only = null;
    let shown = 0;
    for (const option of select.options) {
      if (!option.value) continue;
      const m = options.find((x) => x.member_id === option.value);
      option.hidden = !matches(search.value, m && m.name);
      if (!option.hidden) { shown += 1; only = option; }
    }
    if (shown === 1 && search.value.trim()) { select.value = only.value; select.dispatchEvent(new Event("change", { bubbles: true })); }
  });
  if (!options.length) return el("div", { className: "picker member-picker" }, select,
    el("span", { className: "hint", textContent: "没有可以记录这件事的党员。" }));
  return el("div", { className: "picker member-picker" }, search, select);
}

function attendeePicker(f, id) {
  const options = memberOptions(f);
  if (!options.length) {
    return el("div", { id, className: "checks", "data-name": f.path },
      el("span", { className: "hint", textContent: "本站尚无登记党员，请先登记。" }));
  }
  const count = el("span", { className: "picker-count" });
  const boxes = el("div", { id, className: "checks", "data-name": f.path },
    ...options.map((m) => el("label", { "data-name": m.name },
      el("input", { type: "checkbox", value: m.member_id }), ` ${memberLabel(m)}`)));
  const counted = () => {
    count.textContent = `已选 ${boxes.querySelectorAll("input:checked").length} / ${options.length} 人`;
  };
  const search = el("input", { type: "search", className: "picker-search", id: `${id}-search`, placeholder: "输入姓名搜索" });
  search.addEventListener("input", () => {
    for (const label of boxes.querySelectorAll("label")) label.hidden = !matches(search.value, label.dataset.name);
  });
  const all = (on) => () => {
    for (const label of boxes.querySelectorAll("label")) {
      if (!label.hidden || !on) label.querySelector("input").checked = on;
    }
    boxes.dispatchEvent(new Event("change", { bubbles: true }));
  };
  const selectAll = el("button", { type: "button", className: "secondary small", id: `${id}-all`, textContent: "全选（搜索结果）", onclick: all(true) });
  const none = el("button", { type: "button", className: "secondary small", id: `${id}-none`, textContent: "全不选", onclick: all(false) });
  boxes.addEventListener("change", counted);
  counted();
  return el("div", { className: "picker attendee-picker" },
    el("div", { className: "picker-bar" }, search, selectAll, none, count), boxes);
}

// ---- what the form uses ----------------------------------------------------------------------

// The input of a picker field (org, member, members); null for another kind.
function renderPicker(f, id) {
  if (f.kind === "org" && ref.orgs.length) return orgPicker(f, id);
  if (f.kind === "member") return memberPicker(f, id);
  if (f.kind === "members") return attendeePicker(f, id);
  return null;
}

// The value a picker field sends (a code, a member id); undefined for another kind.
function pickerValue(f, box) {
  if (f.kind === "org") {
    const input = box.querySelector("input");
    return input.dataset.value || input.value;
  }
  if (f.kind === "member") return box.querySelector("select").value;
  return undefined;
}
