/**
 * The report of one drill, as pure logic: its figures from the rows the store loads (improvised actions come
 * from the recovery review's assembly), the comparison with the previous drill of the same scope, and the
 * bilingual Markdown. Definitions are in docs/drills-rehearsal.md.
 */

import { type Translate, translator } from "../i18n/index.ts";
import { mdTable } from "./markdown.ts";
import type { ImprovisedAction, IncidentView, ReviewedIncident, ReviewPreflight, Span } from "./review.ts";

/** A preflight answer counts for an operation reported up to this long after it, for the same account. */
export const ASK_WINDOW_MINUTES = 10;

export interface DrillScopeView {
  group: string | null;
  account_ids: string[] | null;
}

/** A drill as the store keeps it: an incident marked `drill` (the stored incident row satisfies this). */
export interface DrillIncident extends ReviewedIncident {
  kind: "incident" | "drill";
  plannedMinutes: number | null;
  plannedEndAt: Date | null;
  scope: { group?: string; account_ids?: string[] } | null;
  createdBy: string;
}

export interface DrillView {
  id: string;
  platform: string;
  title: string;
  scope: DrillScopeView;
  planned_minutes: number;
  status: "active" | "closed";
  started_at: string;
  planned_end_at: string;
  ended_at: string | null;
  started_by: string;
}

export interface ParticipantAccount {
  account_id: string;
  platform: string;
  ref: string;
  events: number;
}

export interface ParticipantEnvironment {
  environment_id: string;
  name: string;
  events: number;
}

/** A login or operation reported during the drill, and whether preflight was asked about it first. */
export interface DrillOperation {
  accountId: string;
  operation: string;
  at: number;
  askedFirst: boolean;
}

/** What a drill report is assembled from (the service loads it; improvised actions come from the review). */
export interface DrillRows {
  participants: { accounts: ParticipantAccount[]; environments: ParticipantEnvironment[] };
  improvised: ImprovisedAction[];
  preflights: ReviewPreflight[];
  sensitiveOperations: string[];
  operations: DrillOperation[];
  /** the drill's own alerts: raised under its incident id */
  alerts: Array<{ id: string; firstSeenAt: number }>;
  firstAnswerAt: number | null;
  realIncidents: IncidentView[];
}

export const FIGURES = [
  "accounts",
  "environments",
  "network_switches",
  "retry_storms",
  "sensitive_performed",
  "sensitive_denied",
  "sensitive_allowed_by_override",
  "operations",
  "asked_first",
  "without_asking",
  "compliance",
  "alerts",
  "first_ack_seconds",
] as const;
export type Figure = (typeof FIGURES)[number];
export type DrillFigures = Record<Figure, number | null>;

/** Which way a figure should move: fewer improvised actions, more asking first, faster answers. */
const BETTER: Partial<Record<Figure, "lower" | "higher">> = {
  network_switches: "lower",
  retry_storms: "lower",
  sensitive_performed: "lower",
  sensitive_denied: "lower",
  sensitive_allowed_by_override: "lower",
  without_asking: "lower",
  compliance: "higher",
  first_ack_seconds: "lower",
};

export interface FigureChange {
  figure: Figure;
  current: number | null;
  previous: number | null;
  /** current − previous; null when either is unknown */
  change: number | null;
  /** true: moved the right way; false: the wrong way; null: unchanged, unknown, or a figure with no right way */
  improved: boolean | null;
}

export interface DrillComparison {
  previous_drill_id: string;
  previous_started_at: string;
  changes: FigureChange[];
}

export interface DrillReport {
  drill: DrillView;
  window: { from: string; to: string };
  figures: DrillFigures;
  participants: { accounts: ParticipantAccount[]; environments: ParticipantEnvironment[] };
  improvised_actions: ImprovisedAction[];
  preflight_compliance: {
    ask_window_minutes: number;
    by_account: Array<{
      account_id: string;
      platform: string;
      ref: string;
      asked_first: number;
      without_asking: number;
    }>;
  };
  acknowledgement: { first_alert_at: string | null; first_answer_at: string | null; seconds: number | null };
  real_incidents: IncidentView[];
  comparison: DrillComparison | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const round3 = (n: number) => Math.round(n * 1000) / 1000;

export function drillView(d: DrillIncident): DrillView {
  const planned = d.plannedMinutes ?? 0;
  return {
    id: d.id,
    platform: d.platform,
    title: d.title,
    scope: { group: d.scope?.group ?? null, account_ids: d.scope?.account_ids ?? null },
    planned_minutes: planned,
    status: d.status,
    started_at: d.startedAt.toISOString(),
    planned_end_at: (d.plannedEndAt ?? new Date(d.startedAt.getTime() + planned * 60_000)).toISOString(),
    ended_at: d.endedAt?.toISOString() ?? null,
    started_by: d.createdBy,
  };
}

/** The stretch a report reads: from the start to the end, or to now (never past the planned end) while active. */
export function drillSpan(d: DrillIncident, now: Date): Span {
  const from = d.startedAt.getTime();
  const planned = d.plannedEndAt?.getTime() ?? Number.POSITIVE_INFINITY;
  const to = d.endedAt?.getTime() ?? Math.min(now.getTime(), planned);
  return { from, to: Math.max(from, to) };
}

/** Two drills rehearse the same thing when platform, group and account list agree (the order of ids aside). */
export function sameScope(a: DrillIncident, b: DrillIncident): boolean {
  const ids = (d: DrillIncident) => JSON.stringify([...(d.scope?.account_ids ?? [])].sort());
  return (
    a.platform === b.platform &&
    (a.scope?.group ?? null) === (b.scope?.group ?? null) &&
    (a.scope?.account_ids === undefined) === (b.scope?.account_ids === undefined) &&
    ids(a) === ids(b)
  );
}

export function compareFigures(current: DrillFigures, previous: DrillFigures): FigureChange[] {
  return FIGURES.map((figure) => {
    const now = current[figure];
    const before = previous[figure];
    const change = now === null || before === null ? null : round3(now - before);
    const way = BETTER[figure];
    const improved =
      change === null || change === 0 || !way ? null : way === "lower" ? change < 0 : change > 0;
    return { figure, current: now, previous: before, change, improved };
  });
}

/** The report without its comparison, which the service adds once it has built the previous drill's figures. */
export function assembleDrillReport(drill: DrillIncident, span: Span, rows: DrillRows): DrillReport {
  const sensitive = new Set(rows.sensitiveOperations);
  const sensitiveAsks = rows.preflights.filter((p) => sensitive.has(p.operation));
  const asked = rows.operations.filter((o) => o.askedFirst).length;
  const byAccount = new Map<string, { asked_first: number; without_asking: number }>();
  for (const o of rows.operations) {
    const entry = byAccount.get(o.accountId) ?? { asked_first: 0, without_asking: 0 };
    if (o.askedFirst) entry.asked_first += 1;
    else entry.without_asking += 1;
    byAccount.set(o.accountId, entry);
  }
  const firstAlert = rows.alerts.length === 0 ? null : Math.min(...rows.alerts.map((a) => a.firstSeenAt));
  const seconds =
    firstAlert === null || rows.firstAnswerAt === null
      ? null
      : Math.round((rows.firstAnswerAt - firstAlert) / 1000);
  const figures: DrillFigures = {
    accounts: rows.participants.accounts.length,
    environments: rows.participants.environments.length,
    network_switches: rows.improvised.reduce((n, a) => n + a.network_switches.length, 0),
    retry_storms: rows.improvised.reduce((n, a) => n + a.retry_storms, 0),
    sensitive_performed: rows.improvised.reduce((n, a) => n + a.sensitive_operations.length, 0),
    sensitive_denied: sensitiveAsks.filter((p) => p.decision === "deny").length,
    sensitive_allowed_by_override: sensitiveAsks.filter((p) => p.overrideId !== null).length,
    operations: rows.operations.length,
    asked_first: asked,
    without_asking: rows.operations.length - asked,
    compliance: rows.operations.length === 0 ? null : round3(asked / rows.operations.length),
    alerts: rows.alerts.length,
    first_ack_seconds: seconds,
  };
  const refOf = new Map(rows.participants.accounts.map((a) => [a.account_id, a]));
  return {
    drill: drillView(drill),
    window: { from: iso(span.from), to: iso(span.to) },
    figures,
    participants: rows.participants,
    improvised_actions: rows.improvised,
    preflight_compliance: {
      ask_window_minutes: ASK_WINDOW_MINUTES,
      by_account: [...byAccount.entries()]
        .map(([id, counts]) => ({
          account_id: id,
          platform: refOf.get(id)?.platform ?? drill.platform,
          ref: refOf.get(id)?.ref ?? id,
          ...counts,
        }))
        .sort((a, b) => a.ref.localeCompare(b.ref)),
    },
    acknowledgement: {
      first_alert_at: firstAlert === null ? null : iso(firstAlert),
      first_answer_at: rows.firstAnswerAt === null ? null : iso(rows.firstAnswerAt),
      seconds,
    },
    real_incidents: rows.realIncidents,
    comparison: null,
  };
}

const EN = translator("en");
const ZH = translator("zh-CN");
/** One label in both languages, English first. */
const both = (say: (t: Translate) => string) => `${say(EN)} / ${say(ZH)}`;

const signed = (n: number | null) => (n === null ? "—" : n > 0 ? `+${n}` : String(n));

/** The report as Markdown for people: every heading, label and sentence in English and Simplified Chinese. */
export function drillMarkdown(report: DrillReport): string {
  const d = report.drill;
  const f = report.figures;
  const parts: string[] = [];
  parts.push(`# ${both((t) => t("drill.md.title", { title: d.title }))}`);
  const scope = d.scope.group
    ? both((t) => t("drill.md.scope_group", { group: d.scope.group ?? "" }))
    : d.scope.account_ids
      ? both((t) => t("drill.md.scope_accounts", { count: d.scope.account_ids?.length ?? 0 }))
      : both((t) => t("drill.md.scope_platform"));
  parts.push(
    [
      `- ${both((t) => t("drill.md.drill"))}: \`${d.id}\` — ${d.platform}, ${scope}`,
      `- ${both((t) => t("drill.md.window"))}: ${report.window.from} → ${report.window.to} (${both((t) => t("drill.md.planned", { minutes: d.planned_minutes }))})`,
      `- ${both((t) => t("drill.md.status"))}: ${both((t) => t(d.status === "active" ? "drill.md.active" : "drill.md.ended"))}`,
    ].join("\n"),
  );

  parts.push(`## ${both((t) => t("drill.md.figures"))}`);
  const changeOf = new Map(report.comparison?.changes.map((c) => [c.figure, c]) ?? []);
  const verdict = (c: FigureChange | undefined) =>
    !c || c.improved === null ? "—" : both((t) => t(c.improved ? "drill.md.better" : "drill.md.worse"));
  parts.push(
    mdTable(
      [
        both((t) => t("drill.md.col_figure")),
        both((t) => t("drill.md.col_value")),
        both((t) => t("drill.md.col_previous")),
        both((t) => t("drill.md.col_change")),
        both((t) => t("drill.md.col_verdict")),
      ],
      FIGURES.map((figure) => {
        const c = changeOf.get(figure);
        return [
          both((t) => t(`drill.figure.${figure}`)),
          f[figure],
          c ? c.previous : "—",
          c ? signed(c.change) : "—",
          verdict(c),
        ];
      }),
    ),
  );
  parts.push(
    report.comparison
      ? both((t) =>
          t("drill.md.compared", {
            id: report.comparison?.previous_drill_id ?? "",
            at: report.comparison?.previous_started_at ?? "",
          }),
        )
      : both((t) => t("drill.md.first_of_scope")),
  );

  parts.push(`## ${both((t) => t("drill.md.participants"))}`);
  parts.push(
    report.participants.accounts.length === 0
      ? both((t) => t("drill.md.none"))
      : mdTable(
          [both((t) => t("drill.md.col_account")), both((t) => t("drill.md.col_events"))],
          report.participants.accounts.map((a) => [`${a.platform}/${a.ref}`, a.events]),
        ),
  );
  if (report.participants.environments.length > 0) {
    parts.push(
      mdTable(
        [both((t) => t("drill.md.col_environment")), both((t) => t("drill.md.col_events"))],
        report.participants.environments.map((e) => [e.name, e.events]),
      ),
    );
  }

  parts.push(`## ${both((t) => t("drill.md.improvised"))}`);
  parts.push(
    report.improvised_actions.length === 0
      ? both((t) => t("drill.md.none"))
      : mdTable(
          [
            both((t) => t("drill.md.col_account")),
            both((t) => t("drill.md.col_operator")),
            both((t) => t("drill.figure.network_switches")),
            both((t) => t("drill.figure.retry_storms")),
            both((t) => t("drill.figure.sensitive_performed")),
            both((t) => t("drill.md.col_denials")),
            both((t) => t("drill.md.col_overrides")),
          ],
          report.improvised_actions.map((a) => [
            `${a.platform}/${a.ref}`,
            a.operator,
            a.network_switches.length,
            a.retry_storms,
            a.sensitive_operations.map((s) => s.operation).join(", ") || 0,
            a.preflight_denials,
            a.overrides,
          ]),
        ),
  );

  parts.push(`## ${both((t) => t("drill.md.compliance"))}`);
  parts.push(
    both((t) => t("drill.md.compliance_rule", { minutes: report.preflight_compliance.ask_window_minutes })),
  );
  if (report.preflight_compliance.by_account.length > 0) {
    parts.push(
      mdTable(
        [
          both((t) => t("drill.md.col_account")),
          both((t) => t("drill.figure.asked_first")),
          both((t) => t("drill.figure.without_asking")),
        ],
        report.preflight_compliance.by_account.map((a) => [
          `${a.platform}/${a.ref}`,
          a.asked_first,
          a.without_asking,
        ]),
      ),
    );
  }

  parts.push(`## ${both((t) => t("drill.md.acknowledgement"))}`);
  const ack = report.acknowledgement;
  parts.push(
    ack.seconds === null
      ? both((t) => t("drill.md.no_ack"))
      : both((t) =>
          t("drill.md.ack", {
            seconds: ack.seconds ?? 0,
            alert: ack.first_alert_at ?? "",
            answer: ack.first_answer_at ?? "",
          }),
        ),
  );

  parts.push(`## ${both((t) => t("drill.md.real_incidents"))}`);
  parts.push(
    report.real_incidents.length === 0
      ? both((t) => t("drill.md.none"))
      : [
          both((t) => t("drill.md.real_note")),
          mdTable(
            [
              both((t) => t("drill.md.col_incident")),
              both((t) => t("drill.md.col_source")),
              both((t) => t("drill.md.col_started")),
              both((t) => t("drill.md.col_title")),
            ],
            report.real_incidents.map((i) => [`\`${i.id}\``, i.source, i.started_at, i.title]),
          ),
        ].join("\n\n"),
  );
  return `${parts.join("\n\n")}\n`;
}
