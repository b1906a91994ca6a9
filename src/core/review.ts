/**
 * The recovery review of one incident, as pure logic: its windows, its assembly from the rows the store loads,
 * its lessons and its Markdown. The HTTP schema (src/http/incidents/schemas.ts) is checked against `Review`.
 */

import { type Translate, translator } from "../i18n/index.ts";
import { mdCell, mdTable } from "./markdown.ts";

export const REVIEW_CATEGORIES = ["logins", "publishing", "syncs"] as const;
export type ReviewCategory = (typeof REVIEW_CATEGORIES)[number];

/** A stretch of time in epoch ms, bounds included. */
export interface Span {
  from: number;
  to: number;
}

export interface ReviewWindowSpans {
  before: Span;
  during: Span;
  after: Span | null;
}

/** An incident as the review reads it (the stored incident row satisfies this). */
export interface ReviewedIncident {
  id: string;
  platform: string;
  region: string | null;
  title: string;
  source: "declared" | "detected";
  /** absent: a real incident */
  kind?: "incident" | "drill";
  status: "active" | "closed";
  startedAt: Date;
  endedAt: Date | null;
  evidence: Record<string, unknown>;
}

// ---- What the store loads for a review (src/store/review.ts returns these) ----

export interface SuccessCount {
  platform: string;
  category: ReviewCategory;
  phase: "before" | "during" | "after";
  ok: number;
  total: number;
}

export interface SensitiveEvent {
  eventId: string;
  accountId: string;
  platform: string;
  ref: string;
  operator: string | null;
  operation: string;
  at: number;
  ip: string | null;
  asn: number | null;
}

export interface OperationCount {
  operation: string;
  count: number;
  accounts: number;
}

export interface FailureCodes {
  /** accounts of the platform with any event in the scope */
  activeAccounts: number;
  codes: Array<{ side: "platform" | "account"; code: string; count: number }>;
  /** per side: how many accounts failed and from how many networks (ASN, else /24, else IP) */
  sides: Partial<Record<"platform" | "account", { count: number; accounts: number; networks: number }>>;
}

export interface ReviewAlert {
  id: string;
  rule: string;
  severity: string;
  status: string;
  verdict: string | null;
  note: string | null;
  summary: string;
  accountIds: string[];
  accounts: Array<{ id: string; platform: string; ref: string }>;
  incidentId: string | null;
  count: number;
  firstSeenAt: number;
  lastSeenAt: number;
  /** as the rule recorded it, else the operator of the event that raised the alert */
  operator: string | null;
}

export interface ReviewPreflight {
  id: string;
  decision: "allow" | "warn" | "deny";
  reasons: Array<{ rule: string; severity: string; message: string }>;
  operation: string;
  operator: string | null;
  accountId: string | null;
  platform: string;
  ref: string;
  at: number;
  overrideId: string | null;
}

export interface ReviewOverride {
  id: string;
  accountId: string;
  platform: string;
  ref: string;
  operation: string;
  reason: string;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

export interface NetworkUse {
  accountId: string;
  platform: string;
  ref: string;
  operator: string | null;
  ip: string;
  asn: number | null;
  /** the first event from this IP (and ASN) in the window */
  firstAt: number;
  events: number;
  /** the account had accepted IPs before the incident began: only then can it switch away from them */
  hasBaseline: boolean;
  ipKnown: boolean;
  asnKnown: boolean;
}

/** Everything a review is assembled from. */
export interface ReviewRows {
  counts: SuccessCount[];
  sensitive: SensitiveEvent[];
  operations: OperationCount[];
  failures: FailureCodes;
  alerts: ReviewAlert[];
  preflights: ReviewPreflight[];
  overrides: ReviewOverride[];
  networks: NetworkUse[];
}

// ---- The review as the API answers it ----

/** An incident as the API shows it (the incident routes answer with it too). */
export interface IncidentView {
  id: string;
  platform: string;
  region: string | null;
  title: string;
  source: "declared" | "detected";
  /** a real platform incident, or a fault drill rehearsing one */
  kind: "incident" | "drill";
  status: "active" | "closed";
  started_at: string;
  ended_at: string | null;
  evidence: Record<string, unknown>;
}

export interface ReviewWindow {
  from: string;
  to: string;
}

export interface Rate {
  ok: number;
  total: number;
  /** ok / total, 3 decimals; null when nothing was tried */
  rate: number | null;
}

export const TIMELINE_KINDS = [
  "incident_started",
  "incident_ended",
  "alert",
  "sensitive_operation",
  "preflight_denied",
  "override_granted",
] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export interface TimelineEntry {
  at: string;
  kind: TimelineKind;
  summary: string;
  account_id?: string;
  operator?: string;
  /** the operation a sensitive-operation, preflight or override entry is about */
  operation?: string;
}

export interface ImprovisedAction {
  account_id: string;
  platform: string;
  ref: string;
  operator: string | null;
  network_switches: Array<{ at: string; ip: string; asn: number | null }>;
  retry_storms: number;
  sensitive_operations: Array<{ at: string; operation: string }>;
  preflight_denials: number;
  overrides: number;
}

export interface SuccessRate {
  platform: string;
  category: ReviewCategory;
  before: Rate;
  during: Rate;
  after: Rate | null;
}

export interface AlertView {
  id: string;
  rule: string;
  severity: string;
  status: string;
  verdict: string | null;
  note: string | null;
  summary: string;
  account_ids: string[];
  count: number;
  first_seen_at: string;
  last_seen_at: string;
}

/** How long detection took, in event time: from the first platform-side failure to the one that met the quorum. */
export interface Detection {
  first_failure_at: string;
  quorum_met_at: string;
  latency_seconds: number;
}

export interface Review {
  incident: IncidentView;
  /** null for a declared incident or drill: nothing was detected */
  detection: Detection | null;
  windows: { before: ReviewWindow; during: ReviewWindow; after: ReviewWindow | null };
  timeline: TimelineEntry[];
  improvised_actions: ImprovisedAction[];
  success_rates: SuccessRate[];
  operations_during: OperationCount[];
  failure_codes: { platform_side: Record<string, number>; account_side: Record<string, number> };
  alerts: AlertView[];
  /** each lesson as one line, English then Simplified Chinese */
  lessons: string[];
  /** the same lessons as data, to word in one language (`lessonText`) */
  lesson_details: Lesson[];
}

export const LESSON_CODES = [
  "platform_fault",
  "one_network",
  "account_side",
  "avoidable",
  "freeze_held",
  "blind_operation",
  "preflight",
  "still_active",
  "recovered",
  "not_recovered",
  "alerts_open",
] as const;
export type LessonCode = (typeof LESSON_CODES)[number];

export interface Lesson {
  code: LessonCode;
  params: Record<string, string | number>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function incidentView(i: ReviewedIncident): IncidentView {
  return {
    id: i.id,
    platform: i.platform,
    region: i.region,
    title: i.title,
    source: i.source,
    kind: i.kind ?? "incident",
    status: i.status,
    started_at: i.startedAt.toISOString(),
    ended_at: i.endedAt?.toISOString() ?? null,
    evidence: i.evidence,
  };
}

/** Operations that spend or reprice on the strength of order data: blind while orders do not sync. */
const BLIND_OPERATIONS = ["ad_budget_change", "ad_campaign_change", "price_change"];

/**
 * The three windows of a review: the incident itself, the equal-length stretch before it, and the one after
 * it (cut short at now; none while the incident is still active).
 */
export function reviewWindows(
  incident: Pick<ReviewedIncident, "startedAt" | "endedAt">,
  now: Date,
): ReviewWindowSpans {
  const start = incident.startedAt.getTime();
  const end = incident.endedAt?.getTime() ?? null;
  const duringTo = Math.max(start, end ?? now.getTime());
  const length = duringTo - start;
  return {
    before: { from: start - length, to: start },
    during: { from: start, to: duringTo },
    after:
      end === null
        ? null
        : { from: duringTo, to: Math.max(duringTo, Math.min(duringTo + length, now.getTime())) },
  };
}

const rateOf = (c: SuccessCount | undefined): Rate => {
  const ok = c?.ok ?? 0;
  const total = c?.total ?? 0;
  return { ok, total, rate: total === 0 ? null : Math.round((ok / total) * 1000) / 1000 };
};

/**
 * The recovery review of one incident from the rows loaded for its windows: which signals said "platform
 * fault" (platform-side failure codes from many networks, success rates that fell and recovered for
 * everyone), and which improvised actions (network switches, retry storms, sensitive edits, break-glass
 * overrides) were avoidable, by account and operator.
 */
export function assembleReview(
  incident: ReviewedIncident,
  windows: ReviewWindowSpans,
  loaded: ReviewRows,
): Review {
  const { counts, sensitive, operations, failures, alerts, preflights, overrides, networks } = loaded;

  const platforms = [...new Set(counts.map((c) => c.platform))].sort((a, b) =>
    a === incident.platform ? -1 : b === incident.platform ? 1 : a.localeCompare(b),
  );
  const success_rates: SuccessRate[] = [];
  for (const platform of platforms) {
    for (const category of REVIEW_CATEGORIES) {
      const of = (phase: SuccessCount["phase"]) =>
        counts.find((c) => c.platform === platform && c.category === category && c.phase === phase);
      if (!of("before") && !of("during") && !of("after")) continue;
      success_rates.push({
        platform,
        category,
        before: rateOf(of("before")),
        during: rateOf(of("during")),
        after: windows.after ? rateOf(of("after")) : null,
      });
    }
  }

  // One row per account and operator that improvised anything.
  const improvised = new Map<string, ImprovisedAction>();
  const row = (
    accountId: string,
    platform: string,
    ref: string,
    operator: string | null,
  ): ImprovisedAction => {
    const key = `${accountId}\u0000${operator ?? ""}`;
    let r = improvised.get(key);
    if (!r) {
      r = {
        account_id: accountId,
        platform,
        ref,
        operator,
        network_switches: [],
        retry_storms: 0,
        sensitive_operations: [],
        preflight_denials: 0,
        overrides: 0,
      };
      improvised.set(key, r);
    }
    return r;
  };
  for (const n of networks) {
    if (!n.hasBaseline || (n.ipKnown && n.asnKnown)) continue;
    row(n.accountId, n.platform, n.ref, n.operator).network_switches.push({
      at: iso(n.firstAt),
      ip: n.ip,
      asn: n.asn,
    });
  }
  for (const a of alerts) {
    const account = a.accounts[0];
    if (a.rule !== "retry_storm" || !account) continue;
    row(account.id, account.platform, account.ref, a.operator).retry_storms += 1;
  }
  for (const s of sensitive) {
    row(s.accountId, s.platform, s.ref, s.operator).sensitive_operations.push({
      at: iso(s.at),
      operation: s.operation,
    });
  }
  for (const p of preflights) {
    if (p.decision === "deny" && p.accountId)
      row(p.accountId, p.platform, p.ref, p.operator).preflight_denials += 1;
  }
  for (const o of overrides) {
    // Attributed to whoever acted under it; an override nobody used stays with the account alone.
    const user = preflights.find((p) => p.overrideId === o.id);
    row(o.accountId, o.platform, o.ref, user?.operator ?? null).overrides += 1;
  }
  const improvised_actions = [...improvised.values()].sort(
    (a, b) =>
      a.platform.localeCompare(b.platform) ||
      a.ref.localeCompare(b.ref) ||
      (a.operator ?? "").localeCompare(b.operator ?? ""),
  );

  const timeline: Array<TimelineEntry & { ms: number }> = [];
  const push = (ms: number, entry: Omit<TimelineEntry, "at">) => timeline.push({ ms, at: iso(ms), ...entry });
  const where = `${incident.platform}${incident.region ? ` ${incident.region}` : ""}`;
  push(incident.startedAt.getTime(), {
    kind: "incident_started",
    summary: `${incident.source} incident on ${where}: ${incident.title}`,
  });
  if (incident.endedAt) {
    push(incident.endedAt.getTime(), { kind: "incident_ended", summary: `incident on ${where} ended` });
  }
  for (const a of alerts) {
    const only = a.accountIds.length === 1 ? a.accountIds[0] : undefined;
    push(a.firstSeenAt, {
      kind: "alert",
      summary: `${a.rule} (${a.severity}, ×${a.count}): ${a.summary}`,
      ...(only ? { account_id: only } : {}),
      ...(a.operator ? { operator: a.operator } : {}),
    });
  }
  for (const s of sensitive) {
    push(s.at, {
      kind: "sensitive_operation",
      summary: `${s.operation} on ${s.platform}/${s.ref}${s.ip ? ` from ${s.ip}${s.asn !== null ? ` (AS${s.asn})` : ""}` : ""}`,
      account_id: s.accountId,
      ...(s.operator ? { operator: s.operator } : {}),
      operation: s.operation,
    });
  }
  for (const p of preflights) {
    if (p.decision !== "deny") continue;
    const rules = [...new Set(p.reasons.map((r) => r.rule))].join(", ");
    push(p.at, {
      kind: "preflight_denied",
      summary: `preflight denied ${p.operation} on ${p.platform}/${p.ref}${rules ? `: ${rules}` : ""}`,
      ...(p.accountId ? { account_id: p.accountId } : {}),
      ...(p.operator ? { operator: p.operator } : {}),
      operation: p.operation,
    });
  }
  for (const o of overrides) {
    push(o.createdAt, {
      kind: "override_granted",
      summary: `${o.createdBy} allowed ${o.operation} on ${o.platform}/${o.ref} until ${iso(o.expiresAt)}: ${o.reason}`,
      account_id: o.accountId,
      operation: o.operation,
    });
  }
  const kindRank = (k: TimelineKind) => (k === "incident_started" ? -1 : k === "incident_ended" ? 1 : 0);
  timeline.sort((a, b) => a.ms - b.ms || kindRank(a.kind) - kindRank(b.kind));

  const failure_codes: Review["failure_codes"] = { platform_side: {}, account_side: {} };
  for (const c of failures.codes) {
    failure_codes[c.side === "platform" ? "platform_side" : "account_side"][c.code] = c.count;
  }

  const review: Review = {
    incident: incidentView(incident),
    detection: detectionOf(incident),
    windows: {
      before: { from: iso(windows.before.from), to: iso(windows.before.to) },
      during: { from: iso(windows.during.from), to: iso(windows.during.to) },
      after: windows.after ? { from: iso(windows.after.from), to: iso(windows.after.to) } : null,
    },
    timeline: timeline.map(({ ms: _, ...entry }) => entry),
    improvised_actions,
    success_rates,
    operations_during: operations,
    failure_codes,
    alerts: alerts.map((a) => ({
      id: a.id,
      rule: a.rule,
      severity: a.severity,
      status: a.status,
      verdict: a.verdict,
      note: a.note,
      summary: a.summary,
      account_ids: a.accountIds,
      count: a.count,
      first_seen_at: iso(a.firstSeenAt),
      last_seen_at: iso(a.lastSeenAt),
    })),
    lessons: [],
    lesson_details: [],
  };
  review.lesson_details = lessons(review, failures);
  // API clients that show one string per lesson get both languages, as the Markdown does.
  review.lessons = review.lesson_details.map((l) => `${lessonText(EN, l)} / ${lessonText(ZH, l)}`);
  return review;
}

/**
 * Detection latency of a detected incident. Incidents detected before the evidence named the quorum's moment
 * still have it as the end of their evidence window, and the first failure as their start.
 */
export function detectionOf(incident: ReviewedIncident): Detection | null {
  if (incident.source !== "detected") return null;
  const e = incident.evidence;
  const window = e.window as { to?: unknown } | undefined;
  const met = Date.parse(String(e.quorum_met_at ?? window?.to ?? ""));
  const first = Date.parse(String(e.first_failure_at ?? "")) || incident.startedAt.getTime();
  if (!Number.isFinite(met)) return null;
  return {
    first_failure_at: iso(first),
    quorum_met_at: iso(met),
    latency_seconds: Math.max(0, Math.round((met - first) / 1000)),
  };
}

const pct = (rate: number | null) => (rate === null ? "n/a" : `${Math.round(rate * 1000) / 10}%`);
const codeList = (codes: Record<string, number>) =>
  Object.entries(codes)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([code]) => code);

/** Counted nouns a lesson's parameters name, so each language words its own singular and plural. */
const COUNTED = {
  switches: "network_switch",
  storms: "retry_storm",
  sensitive: "sensitive_operation",
  operators: "operator",
  failures: "account_side_failure",
  failed_accounts: "account",
  times: "time",
  actions: "action",
  overrides: "override_granted",
  alerts: "open_alert",
} as const;

/** A lesson in the reader's language (its words are in src/i18n/incidents.ts). */
export function lessonText(t: Translate, lesson: Lesson): string {
  const params: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(lesson.params)) {
    const noun = COUNTED[name as keyof typeof COUNTED];
    params[name] =
      noun && typeof value === "number"
        ? t(`review.n.${noun}_${value === 1 ? "one" : "other"}`, { count: value })
        : value;
  }
  return t(`review.lesson.${lesson.code}`, params);
}

const EN = translator("en");
const ZH = translator("zh-CN");

/** Sentences a person can act on: which signals said "platform fault", which actions were avoidable. */
function lessons(review: Review, failures: FailureCodes): Lesson[] {
  const out: Lesson[] = [];
  const platform = review.incident.platform;
  const platformSide = failures.sides.platform;
  if (platformSide) {
    const codes = codeList(review.failure_codes.platform_side).join("/");
    const { accounts, networks } = platformSide;
    out.push({
      code: networks >= 2 ? "platform_fault" : "one_network",
      params: { accounts, active: failures.activeAccounts, platform, codes, networks },
    });
  }
  const accountSide = failures.sides.account;
  if (accountSide) {
    const codes = Object.entries(review.failure_codes.account_side)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([code, n]) => `${code} ${n}`)
      .join(", ");
    out.push({
      code: "account_side",
      params: { failures: accountSide.count, codes, failed_accounts: accountSide.accounts },
    });
  }

  const actions = review.improvised_actions;
  const switches = actions.reduce((n, a) => n + a.network_switches.length, 0);
  const storms = actions.reduce((n, a) => n + a.retry_storms, 0);
  const sensitive = actions.reduce((n, a) => n + a.sensitive_operations.length, 0);
  if (switches + storms + sensitive > 0) {
    const operators = new Set(actions.map((a) => a.operator).filter((o) => o !== null)).size;
    out.push({ code: "avoidable", params: { switches, storms, sensitive, operators } });
  } else {
    out.push({ code: "freeze_held", params: {} });
  }

  const syncs = review.success_rates.find((r) => r.platform === platform && r.category === "syncs");
  const syncRate = syncs?.during.rate ?? null;
  if (syncs && syncRate !== null && syncRate < Math.min(0.9, syncs.before.rate ?? 1)) {
    for (const op of review.operations_during.filter((o) => BLIND_OPERATIONS.includes(o.operation))) {
      out.push({
        code: "blind_operation",
        params: {
          operation: op.operation,
          times: op.count,
          during: pct(syncRate),
          before: pct(syncs.before.rate),
        },
      });
    }
  }

  const denials = actions.reduce((n, a) => n + a.preflight_denials, 0);
  const overrides = actions.reduce((n, a) => n + a.overrides, 0);
  if (denials + overrides > 0) out.push({ code: "preflight", params: { actions: denials, overrides } });

  const logins = review.success_rates.find((r) => r.platform === platform && r.category === "logins");
  if (!review.windows.after) {
    out.push({ code: "still_active", params: {} });
  } else if (logins?.after && logins.after.rate !== null) {
    const recovered = logins.after.rate >= (logins.before.rate ?? 0);
    out.push({
      code: recovered ? "recovered" : "not_recovered",
      params: {
        platform,
        after: pct(logins.after.rate),
        during: pct(logins.during.rate),
        before: pct(logins.before.rate),
      },
    });
  }

  const open = review.alerts.filter((a) => a.status === "open" || a.status === "acknowledged").length;
  if (open > 0) out.push({ code: "alerts_open", params: { alerts: open } });
  return out;
}

const rateCell = (r: Rate | null) => (r === null ? "—" : `${pct(r.rate)} (${r.ok}/${r.total})`);

/** The review as Markdown for people: the same content, with bilingual headings. */
export function reviewMarkdown(review: Review): string {
  const i = review.incident;
  const w = review.windows;
  const parts: string[] = [];
  parts.push(`# Recovery review / 复盘：${mdCell(i.title)}`);
  parts.push(
    [
      `- Incident / 事件: \`${i.id}\` — ${i.platform}${i.region ? ` (${i.region})` : ""}, ${i.source}, ${i.status}`,
      `- Started / 开始: ${i.started_at}`,
      `- Ended / 结束: ${i.ended_at ?? "still active / 仍在进行"}`,
      ...(review.detection
        ? [
            `- Detected / 检测: ${review.detection.latency_seconds} s after the first platform-side failure (event time; quorum met at ${review.detection.quorum_met_at}) / 首个平台侧失败后 ${review.detection.latency_seconds} 秒（事件时间）`,
          ]
        : []),
      `- Windows / 时间窗口: before / 之前 ${w.before.from} → ${w.before.to}; during / 期间 ${w.during.from} → ${w.during.to}; after / 之后 ${w.after ? `${w.after.from} → ${w.after.to}` : "—"}`,
    ].join("\n"),
  );

  parts.push("## Timeline / 时间线");
  parts.push(
    mdTable(
      ["At / 时间", "Kind / 类型", "Account / 账号", "Operator / 操作人", "Summary / 摘要"],
      review.timeline.map((t) => [t.at, t.kind, t.account_id, t.operator, t.summary]),
    ),
  );

  parts.push("## Success rates / 成功率");
  parts.push(
    review.success_rates.length === 0
      ? "No logins, publishing or syncs in these windows. / 这些时间窗口内没有登录、发布或同步。"
      : mdTable(
          ["Platform / 平台", "Category / 类别", "Before / 之前", "During / 期间", "After / 之后"],
          review.success_rates.map((r) => [
            r.platform,
            r.category,
            rateCell(r.before),
            rateCell(r.during),
            rateCell(r.after),
          ]),
        ),
  );

  parts.push("## Improvised actions / 临时处置操作");
  parts.push(
    review.improvised_actions.length === 0
      ? "None. / 无。"
      : mdTable(
          [
            "Account / 账号",
            "Operator / 操作人",
            "Network switches / 切换网络",
            "Retry storms / 重试风暴",
            "Sensitive operations / 敏感操作",
            "Preflight denials / 预检拒绝",
            "Overrides / 紧急放行",
          ],
          review.improvised_actions.map((a) => [
            `${a.platform}/${a.ref}`,
            a.operator,
            a.network_switches
              .map((s) => `${s.ip}${s.asn !== null ? ` (AS${s.asn})` : ""} @ ${s.at}`)
              .join("; ") || 0,
            a.retry_storms,
            a.sensitive_operations.map((s) => `${s.operation} @ ${s.at}`).join("; ") || 0,
            a.preflight_denials,
            a.overrides,
          ]),
        ),
  );

  parts.push("## Operations during the incident / 事件期间的操作");
  parts.push(
    review.operations_during.length === 0
      ? "None. / 无。"
      : mdTable(
          ["Operation / 操作", "Count / 次数", "Accounts / 账号数"],
          review.operations_during.map((o) => [o.operation, o.count, o.accounts]),
        ),
  );

  parts.push("## Failure codes / 失败代码");
  const codes = [
    ...Object.entries(review.failure_codes.platform_side).map(([c, n]) => ["platform / 平台侧", c, n]),
    ...Object.entries(review.failure_codes.account_side).map(([c, n]) => ["account / 账号侧", c, n]),
  ];
  parts.push(
    codes.length === 0 ? "None. / 无。" : mdTable(["Side / 归属", "Code / 代码", "Count / 次数"], codes),
  );

  parts.push("## Alerts / 告警");
  parts.push(
    review.alerts.length === 0
      ? "None. / 无。"
      : mdTable(
          [
            "Rule / 规则",
            "Severity / 级别",
            "Status / 状态",
            "Verdict / 结论",
            "Count / 次数",
            "First seen / 首次",
            "Last seen / 最近",
            "Summary / 摘要",
          ],
          review.alerts.map((a) => [
            a.rule,
            a.severity,
            a.status,
            a.verdict,
            a.count,
            a.first_seen_at,
            a.last_seen_at,
            a.note ? `${a.summary} — ${a.note}` : a.summary,
          ]),
        ),
  );

  parts.push("## Lessons / 复盘结论");
  parts.push(review.lessons.map((l) => `- ${l}`).join("\n"));
  return `${parts.join("\n\n")}\n`;
}
