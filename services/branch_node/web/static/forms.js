// The forms of the outstation page: which event each records, its fields and their Chinese labels.
// Field kinds: text, note, date, select, int, yuan (entered in 元, sent as integer 分),
// member (one member registered here, offered by name: only those whose `statuses` can take the
// event), members (attendees), org (an organisation of the county's tree of the kinds `orgs`,
// picked by its Chinese name, sent as its code; `mine`: defaults to this node's own). pickers.js
// renders the member, members and org kinds.
// One form per event type a clerk records (every type of the catalog but member.erased, node.*
// and the corrections, which the 最近记录 list makes); `group` files its tab under a heading.
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
  lead: [["information", "提供一条信息"], ["project", "引进一个项目"], ["industry", "带动一方产业"],
    ["households_enriched", "带富一批群众"]],
  line: [["party_building", "党建"], ["family_planning", "计生"], ["commerce", "商务"], ["legal", "法律咨询"],
    ["labour", "劳动保障"]],
  memberKind: [["company", "会员企业"], ["person", "个人会员"]],
  side: [["outstation", "流动党组织审"], ["home", "家乡党组织审"]],
  decision: [["approved", "同意"], ["rejected", "不同意"]],
  orgKind: [["county_committee", "县委"], ["township_committee", "乡镇党委"], ["village_branch", "村党支部"],
    ["outstation", "流动党员党组织"], ["host_org", "流入地党组织"], ["township_chamber", "乡镇商会"]],
  mode: [["service_station", "流动人口服务站"], ["industry_chain", "产业链"], ["building_materials", "建材行业"],
    ["lychee", "荔枝产业"], ["chamber", "乡镇商会"]],
  venueKind: [["activity_venue", "活动阵地"], ["teaching_site", "教学示范点"]],
  venueSource: [["enterprise_hosted", "企业挂靠"], ["factory_space", "厂房腾挪"], ["rented", "房屋租赁"],
    ["local_support", "当地支持"]],
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
const SOME_MEMBER = { path: "member_id", label: "党员（可不填）", kind: "member", statuses: STILL_HERE };

const FORMS = [
  {
    key: "register", group: "党员", type: "member.registered", tab: "登记党员", title: "登记流动党员",
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
    key: "moved", group: "党员", type: "member.moved", tab: "党员流动", title: "党员流动（换了流入地）",
    fields: [{ ...MEMBER, statuses: STILL_HERE }, { path: "host_location", label: "新流入地", kind: "text", required: true },
      { path: "outstation", label: "流动党组织", kind: "org", orgs: ["outstation"], hint: ORG_HINT },
      { path: "host_org", label: "流入地党组织", kind: "org", orgs: ["host_org"], hint: ORG_HINT }],
  },
  {
    key: "returned", group: "党员", type: "member.returned", tab: "返乡", title: "党员返乡",
    fields: [{ ...MEMBER, statuses: ["out", "contact_lost"] }, NOTE],
  },
  {
    key: "lost", group: "党员", type: "member.contact_lost", tab: "失联", title: "党员失联",
    fields: [{ ...MEMBER, statuses: ["out", "returned"] }, { path: "last_contact_on", label: "最后联系日期", kind: "date" }, NOTE],
  },
  {
    key: "restored", group: "党员", type: "member.contact_restored", tab: "恢复联系", title: "恢复联系",
    fields: [{ ...MEMBER, statuses: ["contact_lost"] }, NOTE],
  },
  {
    key: "orglife", group: "组织生活与教育", type: "orglife.held", tab: "组织生活", title: "组织生活",
    fields: [ORG, { path: "kind", label: "形式", kind: "select", options: OPTIONS.orglife, required: true },
      { path: "topic", label: "主题", kind: "text", required: true },
      { path: "attendees", label: "参加党员", kind: "members", required: true }],
  },
  {
    key: "training", group: "组织生活与教育", type: "training.held", tab: "党课", title: "党课与培训",
    fields: [ORG, { path: "mode", label: "方式", kind: "select", options: OPTIONS.training, required: true },
      { path: "title", label: "题目", kind: "text", required: true },
      { path: "hours", label: "学时", kind: "int" },
      { path: "attendees", label: "参加党员", kind: "members", required: true }],
  },
  {
    key: "fund", group: "经费", type: "fund.received", tab: "经费到账", title: "经费到账（五个一点）",
    fields: [ORG, { path: "source", label: "来源", kind: "select", options: OPTIONS.fund, required: true },
      { path: "amount_fen", label: "金额（元）", kind: "yuan", required: true }, NOTE],
  },
  {
    key: "dispute", group: "流动先锋", type: "dispute.mediated", tab: "纠纷调解", title: "纠纷调解",
    fields: [ORG, { path: "category", label: "类别", kind: "select", options: OPTIONS.dispute, required: true },
      { path: "outcome", label: "结果", kind: "select", options: OPTIONS.outcome, required: true },
      { path: "recovered_fen", label: "挽回金额（元）", kind: "yuan" }],
  },
  {
    key: "invest", group: "流动先锋", type: "returnee.invested", tab: "返乡投资", title: "返乡创业投资",
    fields: [ORG, { path: "enterprise", label: "企业", kind: "text", required: true },
      { path: "industry", label: "行业", kind: "text", required: true },
      { path: "amount_fen", label: "投资额（元）", kind: "yuan", required: true },
      { path: "jobs", label: "带动就业（人）", kind: "int" },
      { path: "park", label: "园区", kind: "text" },
      { path: "member_id", label: "党员（可不填）", kind: "member", statuses: STILL_HERE }],
  },
  {
    key: "posted", group: "流动先锋", type: "jobs.posted", tab: "用工信息", title: "发布用工信息",
    fields: [ORG, { path: "notices", label: "信息条数", kind: "int", required: true },
      { path: "positions", label: "岗位数", kind: "int" }],
  },
  {
    key: "placed", group: "流动先锋", type: "jobs.placed", tab: "就业帮扶", title: "帮助就业",
    fields: [ORG, { path: "people", label: "人数", kind: "int", required: true }],
  },
  {
    key: "donation", group: "流动先锋", type: "donation.made", tab: "捐赠", title: "捐款捐物",
    fields: [ORG, { path: "cause", label: "用途", kind: "select", options: OPTIONS.cause, required: true },
      { path: "cash_fen", label: "现金（元）", kind: "yuan" },
      { path: "in_kind_fen", label: "物资折价（元）", kind: "yuan" },
      { path: "in_kind", label: "物资说明", kind: "note" }],
  },
  {
    key: "transferred", group: "党员", type: "member.transferred_out", tab: "转出", title: "组织关系转出",
    fields: [{ ...MEMBER, statuses: STILL_HERE }, { path: "to_org", label: "转入组织", kind: "text", required: true, placeholder: "如 广州市白云区某党支部" },
      NOTE],
  },
  {
    key: "details", group: "党员", type: "member.details_updated", tab: "信息变更", title: "党员信息变更",
    hint: "改职业只填职业；改姓名或手机号须同时填写姓名和身份证号（身份证号只用于核对，不会完整显示）。",
    fields: [{ ...MEMBER, statuses: STILL_HERE }, { path: "occupation", label: "职业", kind: "text" },
      { path: "personal.name", label: "姓名", kind: "text" },
      { path: "personal.id_number", label: "身份证号", kind: "text", placeholder: "18 位" },
      { path: "personal.phone", label: "手机号", kind: "text", placeholder: "11 位" }],
  },
  {
    key: "study", group: "党员", type: "member.study_account_opened", tab: "学习账号", title: "开通网络党支部学习账号",
    fields: [{ ...MEMBER, statuses: STILL_HERE }, { path: "platform", label: "平台", kind: "text", placeholder: "潇湘红云·智慧党建（不填即此）" },
      { path: "account", label: "学习账号", kind: "text", required: true }],
  },
  {
    key: "crosspost", group: "四项机制", type: "post.cross_assigned", tab: "交叉任职", title: "党内任职交叉制",
    fields: [{ ...MEMBER, statuses: STILL_HERE }, { ...ORG, label: "任职组织", hint: "在哪个党组织任职" },
      { path: "post", label: "职务", kind: "text", required: true, placeholder: "如 支部委员" }],
  },
  {
    key: "review", group: "四项机制", type: "recruitment.reviewed", tab: "发展双审", title: "党员发展双审制",
    fields: [{ path: "candidate_id", label: "发展对象", kind: "member", statuses: STILL_HERE, required: true }, ORG,
      { path: "side", label: "审查方", kind: "select", options: OPTIONS.side, required: true },
      { path: "decision", label: "审查意见", kind: "select", options: OPTIONS.decision, required: true }],
  },
  {
    key: "briefing", group: "四项机制", type: "liaison.briefing", tab: "情况通报", title: "与流入地党组织情况通报",
    fields: [ORG, { path: "host_org", label: "流入地党组织", kind: "org", orgs: ["host_org"], required: true, hint: ORG_HINT },
      { path: "topic", label: "通报事项", kind: "text", required: true }],
  },
  {
    key: "spent", group: "经费", type: "fund.spent", tab: "经费支出", title: "经费支出",
    fields: [ORG, { path: "amount_fen", label: "金额（元）", kind: "yuan", required: true },
      { path: "purpose", label: "用途", kind: "text", required: true, placeholder: "如 活动阵地租金" }],
  },
  {
    key: "lead", group: "流动先锋", type: "investment.lead", tab: "招商引资", title: "招商引资“四个一”",
    fields: [ORG, { path: "kind", label: "类别", kind: "select", options: OPTIONS.lead, required: true },
      { path: "title", label: "信息或项目", kind: "text", required: true },
      { path: "households", label: "带富群众（人）", kind: "int" }, SOME_MEMBER],
  },
  {
    key: "legal", group: "流动先锋", type: "legal.consulted", tab: "法律咨询", title: "法律咨询",
    fields: [ORG, { path: "people", label: "接待咨询（人次）", kind: "int", required: true },
      { path: "topic", label: "咨询事项", kind: "note" }],
  },
  {
    key: "service", group: "流动先锋", type: "service.provided", tab: "综合服务", title: "服务站综合服务（五位一体）",
    fields: [ORG, { path: "line", label: "服务类别", kind: "select", options: OPTIONS.line, required: true },
      { path: "people", label: "服务（人次）", kind: "int", required: true }],
  },
  {
    key: "enterprise", group: "流动先锋", type: "enterprise.founded", tab: "老乡创业", title: "老乡在流入地创办企业",
    fields: [ORG, { path: "enterprise", label: "企业", kind: "text", required: true },
      { path: "industry", label: "行业", kind: "text", required: true, placeholder: "如 皮具箱包" },
      { path: "households_enriched", label: "带富乡亲（人）", kind: "int" }, SOME_MEMBER],
  },
  {
    key: "chamberjoin", group: "乡镇商会", type: "chamber.member_joined", tab: "商会会员", title: "商会吸收会员",
    fields: [{ ...ORG, label: "商会" }, { path: "member_kind", label: "会员类别", kind: "select", options: OPTIONS.memberKind, required: true },
      { path: "name", label: "企业或个人名称", kind: "text", required: true }],
  },
  {
    key: "chamberfunds", group: "乡镇商会", type: "chamber.funds_raised", tab: "商会筹资", title: "商会筹集资金",
    fields: [{ ...ORG, label: "商会" }, { path: "amount_fen", label: "金额（元）", kind: "yuan", required: true }],
  },
  {
    key: "chamberproject", group: "乡镇商会", type: "chamber.project_launched", tab: "商会项目", title: "商会发展产业项目",
    fields: [{ ...ORG, label: "商会" }, { path: "project", label: "项目", kind: "text", required: true },
      { path: "industry", label: "产业", kind: "text", required: true },
      { path: "amount_fen", label: "投资额（元）", kind: "yuan" }],
  },
  {
    key: "orgregistered", group: "组织", type: "org.registered", tab: "登记组织", title: "登记党组织",
    hint: "流动党组织只能登记本组织下属的流入地党组织；其余组织由县委组织部登记。",
    fields: [{ path: "org_id", label: "组织代码", kind: "text", required: true, hint: SLUG_HINT },
      { path: "name", label: "名称", kind: "text", required: true },
      { path: "kind", label: "类别", kind: "select", options: OPTIONS.orgKind, required: true },
      { path: "parent_id", label: "上级组织", kind: "org", hint: "上级组织（县委不填）" },
      { path: "host_location", label: "所在地", kind: "text", placeholder: "如 广东东莞" },
      { path: "mode", label: "模式（仅流动党员党组织）", kind: "select", options: OPTIONS.mode }],
  },
  {
    key: "secretary", group: "组织", type: "org.secretary_appointed", tab: "书记", title: "党组织书记",
    fields: [ORG, { path: "name", label: "书记姓名", kind: "text", required: true }, SOME_MEMBER],
  },
  {
    key: "liaison", group: "组织", type: "org.liaison_assigned", tab: "联系指导", title: "县领导联系指导（月指导、季送学）",
    fields: [ORG, { path: "leader", label: "联系县领导", kind: "text", required: true },
      { path: "office", label: "分管科室", kind: "text", required: true },
      { path: "guidance_every_months", label: "业务指导（每几个月一次）", kind: "int", placeholder: "1" },
      { path: "lesson_every_months", label: "送学上党课（每几个月一次）", kind: "int", placeholder: "3" }],
  },
  {
    key: "venue", group: "组织", type: "org.venue_opened", tab: "活动阵地", title: "活动阵地与教学示范点",
    fields: [ORG, { path: "venue_id", label: "阵地代码", kind: "text", required: true, hint: SLUG_HINT },
      { path: "name", label: "名称", kind: "text", required: true },
      { path: "kind", label: "类别", kind: "select", options: OPTIONS.venueKind, required: true },
      { path: "obtained", label: "建设方式", kind: "select", options: OPTIONS.venueSource, required: true },
      { path: "area_m2", label: "面积（平方米）", kind: "int" }],
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
  [/^give at least one detail to update/, () => "职业或姓名等信息至少填一项"],
  [/a void is final$/, () => "该记录已作废，不能再更正或作废"],
  [/is before the record it corrects/, () => "更正时间不能早于原记录"],
  [/void it and record the event anew$/, () => "不能改成另一名党员或另一个组织；请作废后重新记录"],
  [/^must be the target's as recorded/, () => "姓名、身份证号、手机号不能在这里更正，请用「信息变更」"],
  [/^this node has no event/, () => "本站没有这条记录"],
  [/cannot be (corrected|voided)$/, () => "这类记录不能更正或作废"],
];

function chineseMessage(message, field) {
  for (const [pattern, say] of MESSAGES) {
    const m = pattern.exec(message);
    if (m) return say(m, field || {});
  }
  return message;
}
