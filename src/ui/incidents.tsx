/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The incident pages: the list with the declare form, and one incident with its timeline and review. */
import type { Case } from "../core/cases.ts";
import type { DrillReport } from "../core/drill-report.ts";
import {
  lessonText,
  type Rate,
  type Review,
  type ReviewedIncident,
  type ReviewWindow,
} from "../core/review.ts";
import type { Translate } from "../i18n/index.ts";
import type { AlertRow } from "../store/alerts.ts";
import type { AccountName } from "../store/cases.ts";
import { DrillFigures } from "./drill-figures.tsx";
import { accountText, incidentName, Layout, type PageFrame, Severity, Time } from "./pages.tsx";

export const INCIDENT_STATUSES = ["active", "closed"] as const;

/** An incident as the list shows it: the review's view of it, and how many cases were raised under it. */
export interface IncidentLine extends Omit<ReviewedIncident, "evidence"> {
  cases: number;
  kind?: "incident" | "drill";
}

export interface IncidentFilter {
  status?: string | undefined;
  platform?: string | undefined;
}

/** What the declare form was sent with, shown again beside the reason it was refused. */
export interface DeclareDraft {
  platform?: string | undefined;
  region?: string | undefined;
  title?: string | undefined;
  started_at?: string | undefined;
  error: string;
}

const MINUTE = 60_000;

/** How long an incident lasted (or has lasted so far), in whole minutes. */
export function durationText(t: Translate, from: Date, to: Date): string {
  const minutes = Math.max(0, Math.floor((to.getTime() - from.getTime()) / MINUTE));
  const h = Math.floor(minutes / 60);
  if (h === 0) return t("inc.duration_m", { m: minutes });
  if (h < 24) return t("inc.duration_hm", { h, m: minutes % 60 });
  return t("inc.duration_dh", { d: Math.floor(h / 24), h: h % 24 });
}

/** A `datetime-local` value in UTC, to the minute. */
export const minuteValue = (at: Date) => at.toISOString().slice(0, 16);

const stamp = (iso: string) => `${iso.replace("T", " ").slice(0, 16)}`;
const windowText = (w: ReviewWindow) => `${stamp(w.from)} – ${stamp(w.to)} UTC`;

export function IncidentsPage(
  props: PageFrame & {
    rows: IncidentLine[];
    total: number;
    page: number;
    pages: number;
    filter: IncidentFilter;
    platforms: string[];
    query: (change: Record<string, string | undefined>) => string;
    now: Date;
    draft?: DeclareDraft | undefined;
  },
) {
  const { t, filter, viewer, draft } = props;
  const canDeclare = viewer !== null && viewer.role !== "viewer";
  const option = (value: string, label: string, current: string | undefined) => (
    <option value={value} selected={current === value}>
      {label}
    </option>
  );
  return (
    <Layout {...props} title={t("inc.title")}>
      <h1>
        {t("inc.title")} <span class="muted">{t("inc.count", { count: props.total })}</span>
      </h1>
      <form class="filters card" method="get" action="/console/incidents">
        <label>
          {t("inc.status")}
          <select name="status" data-autosubmit="">
            {option("", t("inc.any"), filter.status ?? "")}
            {INCIDENT_STATUSES.map((s) => option(s, t(`inc.status_${s}`), filter.status))}
          </select>
        </label>
        <label>
          {t("inc.platform")}
          <select name="platform" data-autosubmit="">
            {option("", t("inc.any"), filter.platform ?? "")}
            {props.platforms.map((p) => option(p, p, filter.platform))}
          </select>
        </label>
        <button class="primary" type="submit">
          {t("inc.filter")}
        </button>
        <a href="/console/incidents">{t("inc.clear")}</a>
      </form>
      {props.rows.length === 0 ? (
        <p class="card">{t("inc.empty")}</p>
      ) : (
        <div class="scroll">
          <table class="incidents">
            <thead>
              <tr>
                <th>{t("inc.col_status")}</th>
                <th>{t("inc.col_platform")}</th>
                <th>{t("inc.col_region")}</th>
                <th>{t("inc.col_title")}</th>
                <th>{t("inc.col_source")}</th>
                <th>{t("inc.col_started")}</th>
                <th>{t("inc.col_ended")}</th>
                <th>{t("inc.col_duration")}</th>
                <th>{t("inc.col_cases")}</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((i) => (
                <tr class={`incident incident-${i.status}`} data-incident={i.id}>
                  <td>
                    <span class={`state state-${i.status}`}>{t(`inc.status_${i.status}`)}</span>
                  </td>
                  <td>{i.platform}</td>
                  <td>{i.region ?? <span class="muted">{t("inc.all_regions")}</span>}</td>
                  <td>
                    <a href={`/console/incidents/${i.id}`}>{i.title}</a>
                    {i.kind === "drill" ? <DrillBadge t={t} /> : null}
                  </td>
                  <td>{t(`inc.source_${i.source}`)}</td>
                  <td>
                    <Time at={i.startedAt} />
                  </td>
                  <td>
                    {i.endedAt ? <Time at={i.endedAt} /> : <span class="muted">{t("inc.ongoing")}</span>}
                  </td>
                  <td>{durationText(t, i.startedAt, i.endedAt ?? props.now)}</td>
                  <td>{i.cases}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager">
        {props.page > 1 ? (
          <a href={props.query({ page: String(props.page - 1) })}>← {t("inc.newer")}</a>
        ) : null}
        <span class="muted">
          {props.page} / {Math.max(1, props.pages)}
        </span>
        {props.page < props.pages ? (
          <a href={props.query({ page: String(props.page + 1) })}>{t("inc.older")} →</a>
        ) : null}
      </nav>
      <h2 id="declare">{t("inc.declare")}</h2>
      {canDeclare ? (
        <form class="card declare" method="post" action="/console/incidents">
          <input type="hidden" name="_csrf" value={viewer.csrf} />
          <p class="muted">{t("inc.declare_intro")}</p>
          {draft ? (
            <p class="error" role="alert">
              {draft.error}
            </p>
          ) : null}
          <p>
            <label>
              {t("inc.platform")} <span class="muted">({t("inc.platform_hint")})</span>
              <br />
              <input
                name="platform"
                required
                maxlength={32}
                pattern="[a-z0-9_]{1,32}"
                list="incident-platforms"
                value={draft?.platform ?? filter.platform ?? ""}
              />
            </label>
            <datalist id="incident-platforms">
              {props.platforms.map((p) => (
                <option value={p} />
              ))}
            </datalist>
          </p>
          <p>
            <label>
              {t("inc.region")} <span class="muted">({t("inc.region_hint")})</span>
              <br />
              <input name="region" maxlength={6} size={8} value={draft?.region ?? ""} />
            </label>
          </p>
          <p>
            <label>
              {t("inc.incident_title")}
              <br />
              <input name="title" required maxlength={200} size={48} value={draft?.title ?? ""} />
            </label>
          </p>
          <p>
            <label>
              {t("inc.started_at")} <span class="muted">({t("inc.started_hint")})</span>
              <br />
              <input
                type="datetime-local"
                name="started_at"
                value={draft?.started_at ?? minuteValue(props.now)}
              />
            </label>
          </p>
          <button class="primary" type="submit">
            {t("inc.declare_submit")}
          </button>
        </form>
      ) : (
        <p class="card muted">{t("inc.read_only")}</p>
      )}
    </Layout>
  );
}

/** The numbers behind a detected incident, as detection recorded them. */
function Detection({
  t,
  evidence,
  names,
}: {
  t: Translate;
  evidence: Record<string, unknown>;
  names: Map<string, AccountName>;
}) {
  const num = (k: string) => (typeof evidence[k] === "number" ? (evidence[k] as number) : 0);
  const window = (evidence.window ?? {}) as { from?: unknown; to?: unknown };
  const codes =
    evidence.codes && typeof evidence.codes === "object"
      ? Object.entries(evidence.codes as Record<string, unknown>).map(([code, n]) => `${code} ${String(n)}`)
      : [];
  const accounts = Array.isArray(evidence.account_ids)
    ? evidence.account_ids.filter((x): x is string => typeof x === "string")
    : [];
  return (
    <>
      <dt>{t("inc.detection")}</dt>
      <dd>
        {t("inc.detection_text", {
          failing: num("failing_accounts"),
          active: num("active_accounts"),
          share: `${Math.round(num("share") * 1000) / 10}%`,
          networks: num("networks"),
          from: typeof window.from === "string" ? stamp(window.from) : "?",
          to: typeof window.to === "string" ? stamp(window.to) : "?",
        })}
      </dd>
      {typeof evidence.detection_latency_seconds === "number" ? (
        <>
          <dt>{t("inc.detection_latency")}</dt>
          <dd>{t("inc.detection_latency_text", { seconds: num("detection_latency_seconds") })}</dd>
        </>
      ) : null}
      {codes.length > 0 ? (
        <>
          <dt>{t("inc.codes")}</dt>
          <dd>{codes.join(", ")}</dd>
        </>
      ) : null}
      {accounts.length > 0 ? (
        <>
          <dt>{t("inc.accounts")}</dt>
          <dd>{accounts.map((id) => accountText(names, id)).join(" · ")}</dd>
        </>
      ) : null}
    </>
  );
}

interface TimelineLine {
  at: Date;
  text: string;
  operator?: string | undefined;
  href?: string | undefined;
  severity?: string | undefined;
}

/** The incident's course: its start and end, the cases raised under it, what preflight and people did. */
function timelineOf(
  t: Translate,
  incident: ReviewedIncident,
  review: Review,
  cases: Case<AlertRow>[],
  names: Map<string, AccountName>,
): TimelineLine[] {
  const account = (id: string | undefined) => (id ? accountText(names, id) : "?");
  const lines: TimelineLine[] = [
    { at: incident.startedAt, text: t("inc.tl_started", { source: t(`inc.source_${incident.source}`) }) },
  ];
  for (const k of cases) {
    lines.push({
      at: k.firstSeenAt,
      text: t("inc.tl_case", {
        accounts: k.accountIds.map((id) => accountText(names, id)).join(" · ") || incident.platform,
      }),
      href: `/console/cases/${k.id}`,
      severity: k.severity,
    });
  }
  const kinds = {
    sensitive_operation: "inc.tl_sensitive",
    preflight_denied: "inc.tl_preflight",
    override_granted: "inc.tl_override",
  } as const;
  for (const e of review.timeline) {
    if (!(e.kind in kinds)) continue;
    lines.push({
      at: new Date(e.at),
      text: t(kinds[e.kind as keyof typeof kinds], {
        operation: e.operation ?? "?",
        account: account(e.account_id),
      }),
      operator: e.operator,
    });
  }
  if (incident.endedAt) lines.push({ at: incident.endedAt, text: t("inc.tl_ended") });
  // Stable: at one instant the start stays first and the end last.
  return lines
    .map((line, i) => ({ line, i }))
    .sort((a, b) => a.line.at.getTime() - b.line.at.getTime() || a.i - b.i)
    .map(({ line }) => line);
}

const pct = (rate: number | null) => (rate === null ? "—" : `${Math.round(rate * 1000) / 10}%`);

/** A success rate; no after window yet (the incident is active) is a dash, a window without attempts says so. */
const RateCell = ({ t, rate }: { t: Translate; rate: Rate | null }) =>
  rate === null ? (
    <td class="muted">—</td>
  ) : rate.total === 0 ? (
    <td class="muted">{t("review.rate_none")}</td>
  ) : (
    <td>
      {pct(rate.rate)} <span class="muted">({`${rate.ok}/${rate.total}`})</span>
    </td>
  );

function ReviewSection({ t, review }: { t: Translate; review: Review }) {
  const w = review.windows;
  const codes = [
    ...Object.entries(review.failure_codes.platform_side).map(([c, n]) => ["platform", c, n] as const),
    ...Object.entries(review.failure_codes.account_side).map(([c, n]) => ["account", c, n] as const),
  ];
  return (
    <section class="review">
      <h2>{t("review.title")}</h2>
      <p>
        <a href={`/console/incidents/${review.incident.id}/review.md`} download="">
          {t("review.markdown")}
        </a>
      </p>
      <p class="muted">
        {t("review.windows", {
          before: windowText(w.before),
          during: windowText(w.during),
          after: w.after ? windowText(w.after) : t("review.window_none"),
        })}
      </p>
      <h3>{t("review.lessons")}</h3>
      <ul class="lessons">
        {review.lesson_details.map((l) => (
          <li data-lesson={l.code}>{lessonText(t, l)}</li>
        ))}
      </ul>
      <h3>{t("review.rates")}</h3>
      {review.success_rates.length === 0 ? (
        <p class="muted">{t("review.rates_empty")}</p>
      ) : (
        <div class="scroll">
          <table class="rates">
            <thead>
              <tr>
                <th>{t("inc.col_platform")}</th>
                <th>{t("review.category")}</th>
                <th>{t("review.before")}</th>
                <th>{t("review.during")}</th>
                <th>{t("review.after")}</th>
              </tr>
            </thead>
            <tbody>
              {review.success_rates.map((r) => (
                <tr>
                  <td>{r.platform}</td>
                  <td>{t(`review.category_${r.category}`)}</td>
                  <RateCell t={t} rate={r.before} />
                  <RateCell t={t} rate={r.during} />
                  <RateCell t={t} rate={r.after} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>{t("review.improvised")}</h3>
      {review.improvised_actions.length === 0 ? (
        <p class="muted">{t("review.improvised_empty")}</p>
      ) : (
        <div class="scroll">
          <table class="improvised">
            <thead>
              <tr>
                <th>{t("review.col_account")}</th>
                <th>{t("review.col_operator")}</th>
                <th>{t("review.col_switches")}</th>
                <th>{t("review.col_storms")}</th>
                <th>{t("review.col_sensitive")}</th>
                <th>{t("review.col_denials")}</th>
                <th>{t("review.col_overrides")}</th>
              </tr>
            </thead>
            <tbody>
              {review.improvised_actions.map((a) => (
                <tr>
                  <td>{`${a.platform}/${a.ref}`}</td>
                  <td class="operator">{a.operator ?? ""}</td>
                  <td>
                    {a.network_switches.length === 0
                      ? "0"
                      : a.network_switches.map((s) => (
                          <div>
                            {s.ip}
                            {s.asn !== null ? ` (AS${s.asn})` : ""} <Time at={new Date(s.at)} />
                          </div>
                        ))}
                  </td>
                  <td>{a.retry_storms}</td>
                  <td>
                    {a.sensitive_operations.length === 0
                      ? "0"
                      : a.sensitive_operations.map((s) => (
                          <div>
                            {s.operation} <Time at={new Date(s.at)} />
                          </div>
                        ))}
                  </td>
                  <td>{a.preflight_denials}</td>
                  <td>{a.overrides}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>{t("review.failures")}</h3>
      {codes.length === 0 ? (
        <p class="muted">{t("review.none")}</p>
      ) : (
        <div class="scroll">
          <table class="failures">
            <thead>
              <tr>
                <th>{t("review.col_side")}</th>
                <th>{t("review.col_code")}</th>
                <th>{t("review.col_count")}</th>
              </tr>
            </thead>
            <tbody>
              {codes.map(([side, code, n]) => (
                <tr>
                  <td>{t(`review.side_${side}`)}</td>
                  <td>{code}</td>
                  <td>{n}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** A drill is an incident rehearsed on purpose: say so wherever it is listed or shown. */
function DrillBadge({ t }: { t: Translate }) {
  return (
    <>
      {" "}
      <span class="state state-drill">{t("drill.badge")}</span>
    </>
  );
}

export function IncidentPage(
  props: PageFrame & {
    incident: ReviewedIncident & { kind?: "incident" | "drill" };
    review: Review;
    cases: Case<AlertRow>[];
    names: Map<string, AccountName>;
    now: Date;
    /** a drill's report, with the comparison to the previous drill of its scope */
    drillReport?: DrillReport | undefined;
    flash?: string | undefined;
  },
) {
  const { t, incident, viewer, names } = props;
  const canClose = viewer !== null && viewer.role !== "viewer" && incident.status === "active";
  const timeline = timelineOf(t, incident, props.review, props.cases, names);
  const declaredBy = incident.evidence.declared_by;
  return (
    <Layout {...props} title={incidentName(incident)}>
      <p>
        <a href="/console/incidents">← {t("inc.back")}</a>
      </p>
      <h1>
        <span class={`state state-${incident.status}`}>{t(`inc.status_${incident.status}`)}</span>{" "}
        {incidentName(incident)}
        {incident.kind === "drill" ? <DrillBadge t={t} /> : null}
      </h1>
      {incident.kind === "drill" ? (
        <p>
          <a href={`/console/incidents/${incident.id}/drill-report.md`} download="">
            {t("drill.report_link")}
          </a>
        </p>
      ) : null}
      {props.drillReport ? <DrillFigures t={t} report={props.drillReport} /> : null}
      {props.flash ? (
        <p class="flash" role="status">
          {props.flash}
        </p>
      ) : null}
      <h2>{t("inc.facts")}</h2>
      <dl class="facts card">
        <dt>{t("inc.col_platform")}</dt>
        <dd>{incident.platform}</dd>
        <dt>{t("inc.col_region")}</dt>
        <dd>{incident.region ?? t("inc.all_regions")}</dd>
        <dt>{t("inc.col_source")}</dt>
        <dd>{t(`inc.source_${incident.source}`)}</dd>
        <dt>{t("inc.col_started")}</dt>
        <dd>
          <Time at={incident.startedAt} />
        </dd>
        <dt>{t("inc.col_ended")}</dt>
        <dd>{incident.endedAt ? <Time at={incident.endedAt} /> : t("inc.ongoing")}</dd>
        <dt>{t("inc.col_duration")}</dt>
        <dd>{durationText(t, incident.startedAt, incident.endedAt ?? props.now)}</dd>
        <dt>{t("inc.col_cases")}</dt>
        <dd>{props.cases.length}</dd>
        {typeof declaredBy === "string" ? (
          <>
            <dt>{t("inc.declared_by")}</dt>
            <dd>{declaredBy}</dd>
          </>
        ) : null}
        {incident.source === "detected" ? (
          <Detection t={t} evidence={incident.evidence} names={names} />
        ) : null}
      </dl>
      {canClose ? (
        <form class="card" method="post" action={`/console/incidents/${incident.id}/close`}>
          <input type="hidden" name="_csrf" value={viewer.csrf} />
          <p class="muted">{t("inc.close_intro")}</p>
          <button class="act" type="submit">
            {t("inc.close")}
          </button>
        </form>
      ) : null}
      <h2>{t("inc.timeline")}</h2>
      {timeline.length <= 1 && !incident.endedAt ? <p class="muted">{t("inc.timeline_empty")}</p> : null}
      <ol class="audit timeline">
        {timeline.map((line) => (
          <li>
            <Time at={line.at} /> ·{" "}
            {line.severity ? (
              <>
                <Severity t={t} severity={line.severity} />{" "}
              </>
            ) : null}
            {line.href ? <a href={line.href}>{line.text}</a> : line.text}
            {line.operator ? (
              <span class="muted"> · {t("inc.tl_by", { operator: line.operator })}</span>
            ) : null}
          </li>
        ))}
      </ol>
      <ReviewSection t={t} review={props.review} />
    </Layout>
  );
}
