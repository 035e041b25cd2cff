// The forms of the outstation page: which event each records, its fields and their Chinese labels.
// Field kinds: text, note, date, select, int, yuan (entered in 元, sent as integer 分),
// member (one member registered here, offered by name: only those whose `statuses` can take the
// event), members (attendees), org (an organisation of the county's tree of the kinds `orgs`,
// picked by its Chinese name, sent as its code; `mine`: defaults to this node's own). pickers.js
// renders the member, members and org kinds.
"use strict";

const OPTIONS = {
  orglife: [["branch_meeting", "支部党员大会"], ["committee_meeting", "支委会"], ["group_meeting", "党小组会"],
    ["party_lesson", "党课"], ["theme_day", "主题党日"]],
  training: [["on_site", "送学上党课"], ["cloud", "云党课"], ["special", "专题教育培训"]],
  fund: [["fiscal", "财政拨"], ["dues_rebate", "党费返"], ["member_donation", "党员捐"],
    ["org_raised", "组织筹"], ["host_subsidy", "当地补"]],
  dispute: [["wages", "欠薪"], ["injury", "工伤"], ["contract", "合同"], ["family", "婚姻家庭"], ["other", "其他"]],
  outcome: [["resolved", "调解成功"], ["partly_resolved", "部分解决"], ["unresolved", "未解决"], ["referred", "移交处理"]],
  cause: [["flood_relief", "抗洪救灾"], ["epidemic", "疫情防控"], ["poverty", "扶贫济困"],
    ["rural_revitalisation", "乡村振兴"]],
};

const SLUG_HINT = "小写字母、数字、- 或 _，如 v-shangtang";
const ORG_HINT = "输入中文名称搜索，或填代码（如 v-shangtang）";
const ORG = {
  path: "org_id", label: "组织", kind: "org", orgs: ["outstation", "host_org", "township_chamber"], mine: true,
  required: true, hint: "默认本站组织",
};
const MEMBER = { path: "member_id", label: "党员", kind: "member", required: true };
const STILL_HERE = ["out", "returned", "contact_lost"]; // every status but transferred out
const NOTE = { path: "note", label: "备注", kind: "note" };

const FORMS = [
  {
    key: "register", type: "member.registered", tab: "登记党员", title: "登记流动党员",
    hint: "身份证号只用于生成党员编号，列表中不会完整显示。",
    fields: [
      { path: "personal.name", label: "姓名", kind: "text", required: true },
      { path: "personal.id_number", label: "身份证号", kind: "text", required: true, placeholder: "18 位" },
      { path: "personal.phone", label: "手机号", kind: "text", placeholder: "11 位" },
      { path: "home_branch", label: "所属村支部", kind: "org", orgs: ["village_branch"], required: true, hint: ORG_HINT },
      { path: "outstation", label: "流动党组织", kind: "org", orgs: ["outstation"], mine: true },
      { path: "host_location", label: "流入地", kind: "text", placeholder: "如 广东东莞" },
      { path: "host_org", label: "流入地党组织", kind: "org", orgs: ["host_org"], hint: ORG_HINT },
      { path: "occupation", label: "职业", kind: "text" },
      { path: "flowed_out_on", label: "外出日期", kind: "date", required: true },
    ],
  },
  {
    key: "moved", type: "member.moved", tab: "党员流动", title: "党员流动（换了流入地）",
    fields: [{ ...MEMBER, statuses: STILL_HERE }, { path: "host_location", label: "新流入地", kind: "text", required: true },
      { path: "outstation", label: "流动党组织", kind: "org", orgs: ["outstation"], hint: ORG_HINT },
      { path: "host_org", label: "流入地党组织", kind: "org", orgs: ["host_org"], hint: ORG_HINT }],
  },
  {
    key: "returned", type: "member.returned", tab: "返乡", title: "党员返乡",
    fields: [{ ...MEMBER, statuses: ["out", "contact_lost"] }, NOTE],
  },
  {
    key: "lost", type: "member.contact_lost", tab: "失联", title: "党员失联",
    fields: [{ ...MEMBER, statuses: ["out", "returned"] }, { path: "last_contact_on", label: "最后联系日期", kind: "date" }, NOTE],
  },
  {
    key: "restored", type: "member.contact_restored", tab: "恢复联系", title: "恢复联系",
    fields: [{ ...MEMBER, statuses: ["contact_lost"] }, NOTE],
  },
  {
    key: "orglife", type: "orglife.held", tab: "组织生活", title: "组织生活",
    fields: [ORG, { path: "kind", label: "形式", kind: "select", options: OPTIONS.orglife, required: true },
      { path: "topic", label: "主题", kind: "text", required: true },
      { path: "attendees", label: "参加党员", kind: "members", required: true }],
  },
  {
    key: "training", type: "training.held", tab: "党课", title: "党课与培训",
    fields: [ORG, { path: "mode", label: "方式", kind: "select", options: OPTIONS.training, required: true },
      { path: "title", label: "题目", kind: "text", required: true },
      { path: "hours", label: "学时", kind: "int" },
      { path: "attendees", label: "参加党员", kind: "members", required: true }],
  },
  {
    key: "fund", type: "fund.received", tab: "经费到账", title: "经费到账（五个一点）",
    fields: [ORG, { path: "source", label: "来源", kind: "select", options: OPTIONS.fund, required: true },
      { path: "amount_fen", label: "金额（元）", kind: "yuan", required: true }, NOTE],
  },
  {
    key: "dispute", type: "dispute.mediated", tab: "纠纷调解", title: "纠纷调解",
    fields: [ORG, { path: "category", label: "类别", kind: "select", options: OPTIONS.dispute, required: true },
      { path: "outcome", label: "结果", kind: "select", options: OPTIONS.outcome, required: true },
      { path: "recovered_fen", label: "挽回金额（元）", kind: "yuan" }],
  },
  {
    key: "invest", type: "returnee.invested", tab: "返乡投资", title: "返乡创业投资",
    fields: [ORG, { path: "enterprise", label: "企业", kind: "text", required: true },
      { path: "industry", label: "行业", kind: "text", required: true },
      { path: "amount_fen", label: "投资额（元）", kind: "yuan", required: true },
      { path: "jobs", label: "带动就业（人）", kind: "int" },
      { path: "park", label: "园区", kind: "text" },
      { path: "member_id", label: "党员（可不填）", kind: "member", statuses: STILL_HERE }],
  },
  {
    key: "posted", type: "jobs.posted", tab: "用工信息", title: "发布用工信息",
    fields: [ORG, { path: "notices", label: "信息条数", kind: "int", required: true },
      { path: "positions", label: "岗位数", kind: "int" }],
  },
  {
    key: "placed", type: "jobs.placed", tab: "就业帮扶", title: "帮助就业",
    fields: [ORG, { path: "people", label: "人数", kind: "int", required: true }],
  },
  {
    key: "donation", type: "donation.made", tab: "捐赠", title: "捐款捐物",
    fields: [ORG, { path: "cause", label: "用途", kind: "select", options: OPTIONS.cause, required: true },
      { path: "cash_fen", label: "现金（元）", kind: "yuan" },
      { path: "in_kind_fen", label: "物资折价（元）", kind: "yuan" },
      { path: "in_kind", label: "物资说明", kind: "note" }],
  },
];

const OCCURRED = { path: "occurred_at", label: "发生时间", kind: "datetime", required: true };

const STATUS_NAMES = { out: "在外", returned: "已返乡", contact_lost: "失联", transferred_out: "已转出" };

// The node's messages (English, from the catalog) as a clerk reads them; unknown ones stay as they are.
const MESSAGES = [
  [/^required field is missing$/, () => "必填"],
  [/^check digit does not match/, () => "身份证号校验位不对，请核对"],
  [/^must be 18 characters/, () => "身份证号应为 18 位：17 位数字加 1 位校验码（0-9 或 X）"],
  [/^birth date inside the ID number/, () => "身份证号中的出生日期不存在"],
  [/^must be an 11-digit mobile number/, () => "手机号应为以 1 开头的 11 位数字"],
  [/^Expected `int` >= 1$/, (m, f) => f.kind === "yuan" ? "金额须大于 0" : "须大于 0"],
  [/^Expected `int` >= 0$/, (m, f) => f.kind === "yuan" ? "金额不能为负" : "不能为负数"],
  [/^Expected `int` <= /, () => "数值太大"],
  [/^Expected `int`/, () => "请填写整数"],
  [/^Expected `str` of length >= 1$/, () => "必填"],
  [/^Expected `str` of length <= (\d+)$/, (m) => `最多 ${m[1]} 个字`],
  [/^Expected `str` matching regex/, (m, f) => f.kind === "member" ? "请选择党员" : SLUG_HINT],
  [/^must not contain control characters/, () => "不能含控制字符（如空字符、退格符），请删去后重填"],
  [/^Expected `array` of length >= 1$/, () => "至少选一名党员"],
  [/^Invalid enum value/, () => "请从列表中选择"],
  [/^Invalid RFC3339 encoded date$/, () => "日期格式应为 2019-03-01"],
  [/is after the event's occurred_at$/, () => "不能晚于发生时间"],
  [/is in the future/, () => "发生时间不能在将来"],
  [/is not a date-time/, () => "时间格式不对"],
  [/is not between 1900-01-01 and 2200-01-01$/, () => "时间须在 1900 年至 2200 年之间"],
  [/is before 1900-01-01$/, () => "日期不能早于 1900 年"],
  [/is not registered at this node$/, () => "此人未在本站登记"],
  [/is already registered at this node$/, () => "此人已在本站登记（同一身份证号）"],
  [/has already returned$/, () => "此人已返乡"],
  [/is already out of contact$/, () => "此人已是失联状态"],
  [/has not lost contact$/, () => "此人并未失联"],
  [/was transferred out$/, () => "此人已转出"],
  [/^a donation needs cash_fen or in_kind_fen/, () => "现金或物资折价至少填一项"],
];

function chineseMessage(message, field) {
  for (const [pattern, say] of MESSAGES) {
    const m = pattern.exec(message);
    if (m) return say(m, field || {});
  }
  return message;
}
