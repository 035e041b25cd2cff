// Labels in Chinese (default) and English; t(key) falls back to the key itself.
const zh = {
  title: "同心 · 县流动党员工作看板", as_of: "截至日期", live: "实时", roster: "三级动态名册",
  alerts: "双重管理预警", figures: "先锋作用、经费与教育", nodes: "节点状态",
  funds_month: "经费（五个一点）按月，万元", funds_mode: "经费按驻外模式，万元",
  pioneer_month: "先锋作用按月，人（户）", pioneer_mode: "先锋作用按驻外模式，人（户）",
  education_month: "教育培训按月，人次", education_mode: "教育培训按驻外模式",
  county: "县", township: "乡镇", village: "村（社区）党支部", name: "名称", total: "合计",
  out: "外出", returned: "返乡", contact_lost: "失联", transferred_out: "转出",
  status: "状态", members: "党员名单", member: "党员", outstation: "驻外党组织",
  host_location: "流入地", host_org: "流入地党组织", occupation: "从业", flowed_out_on: "外出时间",
  status_since: "状态起始", study_account: "学习账号", yes: "已开通", no: "未开通",
  co_managers: "共同管理组织", role: "角色", post: "职务", activity: "组织生活与培训",
  last_orglife_at: "最近组织生活", last_trained_at: "最近培训", trained_years: "参训年份",
  history: "履历（事件时间线）", occurred_at: "发生时间", type: "事件", node: "节点",
  member_alerts: "本人预警", none: "无", close: "关闭", prev: "上一页", next: "下一页",
  page: "第 {a}–{b} 条，共 {n} 条", export_csv: "导出 CSV", export_xlsx: "导出 Excel",
  kind: "预警类型", detail: "详情", scope_county: "全县", scope_in: "范围：{x}",
  no_orglife_90d: "90天无组织生活", untrained_this_year: "本年度未参训", recruitment_awaiting_second_review: "发展党员待二次审核",
  no_outstation: "未纳入驻外党组织",
  role_outstation: "驻外党组织", role_host_org: "流入地党组织", role_cross_post: "交叉任职",
  fiscal: "财政拨", dues_rebate: "党费返", member_donation: "党员捐", org_raised: "组织筹", host_subsidy: "当地补",
  spent: "支出", received_total: "经费收入合计", balance: "结余",
  service_station: "服务站", industry_chain: "产业链", building_materials: "建材", lychee: "荔枝", chamber: "商会",
  jobs_placed: "就业安置", legal_consulted: "法律咨询", service_provided: "服务群众", enterprise_founded: "创业带富（户）",
  returnee_jobs: "返乡创业带动就业", returnee_amount: "返乡投资", donation_amount: "捐赠", recovered: "追回欠薪等",
  chamber_funds: "商会筹资",
  outstations: "流动党员党组织", activity_venues: "活动阵地", teaching_sites: "现场教学示范点", chambers: "乡镇商会",
  enterprises_founded: "老乡创办企业", households_enriched: "带富乡亲", returnee_enterprises: "返乡创业企业",
  job_notices: "劳务需求信息", disputes: "调解纠纷", chamber_companies: "商会会员企业", chamber_persons: "商会会员",
  chamber_projects: "商会产业项目", u_orgs: "个", u_items: "个", u_companies: "家", u_households: "户", u_notices: "条", u_cases: "起",
  on_site: "送学上党课", cloud: "云党课", special: "专题教育培训", orglife_sessions: "组织生活（次）",
  coverage: "培训覆盖率", study_rate: "学习账号开通率", wan: "万元", people: "人",
  last_seq: "最新序号", last_seen: "最近到达", lag_s: "延迟（秒）", silent_s: "静默（秒）", held: "暂存",
  gaps: "缺口", quarantined: "隔离", refused_claims: "越权未采信", last_receipt: "最近回执", updated: "更新于 {x}（每5秒刷新，实时数据）",
  unattributed: "无法归属节点的隔离消息：{n}", not_on_roster: "该党员在所选日期尚未登记。", conflicts: "冲突",
  recruitment: "发展党员双重审核", prev_page: "上一页", next_page: "下一页", page_range: "第 {a}–{b} 条，共 {n} 条", side_outstation: "驻外党组织", side_home: "流出地党组织", csv_funds: "经费 CSV", csv_pioneer: "先锋作用 CSV", csv_education: "教育 CSV", show_members: "查看名单", load_error: "加载失败：{x}",
  "member.registered": "登记", "member.moved": "流动", "member.returned": "返乡", "member.contact_lost": "失联",
  "member.contact_restored": "恢复联系", "member.transferred_out": "转出", "member.study_account_opened": "开通学习账号",
  "post.cross_assigned": "交叉任职", "member.updated": "信息变更",
  "record.corrected": "更正", "record.voided": "作废", state_corrected: "已更正", state_voided: "已作废",
  corrects: "更正第 {seq} 条", voids: "作废第 {seq} 条", fix_refused: "县里未采纳",
  // alerts, filters, banner
  as_of_banner: "正在查看 {d} 的数据（历史视图）", back_to_today: "回到今天",
  all: "全部", person_name: "姓名", search_name: "按姓名搜索", clear_filters: "清除筛选", filtered_members: "筛选结果",
  open_card: "打开党员卡片", status_tile_hint: "点击只看此状态的党员", total_tile_hint: "点击清除状态筛选",
  silent_for: "静默 {x}", stale_hint: "超过 {n} 秒未收到该节点的任何消息",
  secs: "{n} 秒", mins: "{n} 分钟", hours: "{n} 小时", days: "{n} 天",
};
const en = {
  title: "Tongxin · County mobile Party members", as_of: "As of", live: "Live", roster: "Three-level roster",
  alerts: "Dual-management alerts", figures: "Pioneer work, funds and education", nodes: "Node health",
  funds_month: "Funds (five sources) by month, 10k yuan", funds_mode: "Funds by outstation mode, 10k yuan",
  pioneer_month: "Pioneer work by month, people (households)", pioneer_mode: "Pioneer work by outstation mode",
  education_month: "Education by month, attendances", education_mode: "Education by outstation mode",
  county: "County", township: "Township", village: "Village branch", name: "Name", total: "Total",
  out: "Out", returned: "Returned", contact_lost: "Contact lost", transferred_out: "Transferred out",
  status: "Status", members: "Members", member: "Member", outstation: "Outstation",
  host_location: "Host location", host_org: "Host organisation", occupation: "Occupation", flowed_out_on: "Flowed out on",
  status_since: "Status since", study_account: "Study account", yes: "open", no: "none",
  co_managers: "Co-managers", role: "Role", post: "Post", activity: "Organisational life and training",
  last_orglife_at: "Last organisational life", last_trained_at: "Last training", trained_years: "Years trained",
  history: "History (timeline)", occurred_at: "Occurred", type: "Event", node: "Node",
  member_alerts: "Alerts", none: "none", close: "Close", prev: "Previous", next: "Next",
  page: "{a}–{b} of {n}", export_csv: "CSV", export_xlsx: "Excel",
  kind: "Kind", detail: "Detail", scope_county: "whole county", scope_in: "scope: {x}",
  no_orglife_90d: "No organisational life in 90 days", untrained_this_year: "Untrained this year",
  recruitment_awaiting_second_review: "Recruitment awaiting second review", no_outstation: "No outstation",
  role_outstation: "Outstation", role_host_org: "Host organisation", role_cross_post: "Cross post",
  fiscal: "Fiscal", dues_rebate: "Dues rebate", member_donation: "Member donations", org_raised: "Raised by orgs",
  host_subsidy: "Host subsidy", spent: "Spent", received_total: "Funds received", balance: "Balance",
  service_station: "Service station", industry_chain: "Industry chain", building_materials: "Building materials",
  lychee: "Lychee", chamber: "Chamber",
  jobs_placed: "People placed in jobs", legal_consulted: "Legal consultations", service_provided: "People served",
  enterprise_founded: "Households enriched", returnee_jobs: "Returnee jobs", returnee_amount: "Returnee investment",
  donation_amount: "Donations", recovered: "Recovered in disputes", chamber_funds: "Chamber funds raised",
  outstations: "Outstation organisations", activity_venues: "Activity venues", teaching_sites: "Teaching sites",
  chambers: "Township chambers", enterprises_founded: "Enterprises founded", households_enriched: "Households enriched",
  returnee_enterprises: "Returnee enterprises", job_notices: "Labour-demand notices", disputes: "Disputes mediated",
  chamber_companies: "Chamber member companies", chamber_persons: "Chamber members", chamber_projects: "Chamber projects",
  u_orgs: "orgs", u_items: "count", u_companies: "companies", u_households: "households", u_notices: "notices", u_cases: "cases",
  on_site: "On-site lessons", cloud: "Cloud lessons", special: "Special training", orglife_sessions: "Org. life (sessions)",
  coverage: "Training coverage", study_rate: "Study accounts opened", wan: "10k yuan", people: "people",
  last_seq: "Last seq", last_seen: "Last seen", lag_s: "Lag (s)", silent_s: "Silent (s)", held: "Held",
  gaps: "Gaps", quarantined: "Quarantined", refused_claims: "Refused claims", last_receipt: "Last receipt", updated: "updated {x} (every 5 s, live)",
  unattributed: "Quarantined messages of no node: {n}", not_on_roster: "Not on the roster at that date.",
  conflicts: "Conflicts", prev_page: "Previous", next_page: "Next", page_range: "{a}–{b} of {n}", side_outstation: "outstation", side_home: "home branch", csv_funds: "Funds CSV", csv_pioneer: "Pioneer CSV", csv_education: "Education CSV", recruitment: "Dual recruitment review", show_members: "Members", load_error: "Failed to load: {x}",
  "member.registered": "Registered", "member.moved": "Moved", "member.returned": "Returned",
  "member.contact_lost": "Contact lost", "member.contact_restored": "Contact restored",
  "member.transferred_out": "Transferred out", "member.study_account_opened": "Study account opened",
  "post.cross_assigned": "Cross post", "member.updated": "Details changed",
  "record.corrected": "Correction", "record.voided": "Void", state_corrected: "corrected", state_voided: "voided",
  corrects: "corrects no. {seq}", voids: "voids no. {seq}", fix_refused: "not accepted by the county",
  // alerts, filters, banner
  as_of_banner: "Viewing the data as of {d} (historical view)", back_to_today: "Back to today",
  all: "All", person_name: "Name", search_name: "Search by name", clear_filters: "Clear filters", filtered_members: "Matching members",
  open_card: "Open the member's card", status_tile_hint: "Click to list members of this status only", total_tile_hint: "Click to clear the status filter",
  silent_for: "silent {x}", stale_hint: "Nothing heard from this node for over {n} s",
  secs: "{n} s", mins: "{n} min", hours: "{n} h", days: "{n} d",
};
const DICTS = { zh, en };
export let lang = localStorage.getItem("tongxin.lang") === "en" ? "en" : "zh";

export function setLang(value) {
  lang = value;
  localStorage.setItem("tongxin.lang", value);
  document.documentElement.lang = value === "zh" ? "zh-CN" : "en";
}

export function t(key, vars = {}) {
  let text = DICTS[lang][key] ?? key;
  for (const [k, v] of Object.entries(vars)) text = text.replace(`{${k}}`, v);
  return text;
}

export function applyStatic() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  document.title = t("title");
}
