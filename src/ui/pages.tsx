/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import type { Case } from "../core/cases.ts";
import { renderFinding } from "../core/finding-text.ts";
import { SEVERITIES } from "../core/model.ts";
import { LANGS, type Lang, type MessageKey, type Translate } from "../i18n/index.ts";
import type { AlertRow } from "../store/alerts.ts";
import type { AccountName } from "../store/cases.ts";
import { type EventRisk, RelatedAccounts, type RelatedLine, RiskFactors } from "./case-parts.tsx";

export interface Viewer {
  name: string;
  role: "viewer" | "reviewer" | "admin";
  csrf: string;
}

export interface Banner {
  id: string;
  platform: string;
  title: string;
  startedAt: Date;
}

export interface PageFrame {
  t: Translate;
  lang: Lang;
  /** this page's path and query, where a language switch comes back to */
  here: string;
  viewer: Viewer | null;
  banners: Banner[];
}

const LANG_NAMES: Record<Lang, string> = { en: "English", "zh-CN": "中文" };

export const Time = ({ at }: { at: Date }) => (
  <time datetime={at.toISOString()} data-local="">
    {at.toISOString().replace("T", " ").slice(0, 16)} UTC
  </time>
);

export function Layout(props: PageFrame & { title: string; children?: Child }) {
  const { t, lang, viewer } = props;
  return (
    <html lang={lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · ${t("app.title")}`}</title>
        <link rel="stylesheet" href="/console/static/console.css" />
        <script src="/console/static/console.js" defer />
      </head>
      <body>
        <a class="skip" href="#main">
          {t("app.skip")}
        </a>
        <header class="top">
          <a class="brand" href="/console">
            {t("app.title")}
          </a>
          {viewer ? (
            <>
              <a href="/console">{t("nav.queue")}</a>
              <a href="/console/accounts">{t("nav.accounts")}</a>
              <a href="/console/associations">{t("nav.associations")}</a>
              <a href="/console/incidents">{t("nav.incidents")}</a>
            </>
          ) : null}
          <a href="/docs">{t("nav.api")}</a>
          <span>
            {t("nav.language")}:{" "}
            {LANGS.map((l) =>
              l === lang ? (
                <strong lang={l}>{LANG_NAMES[l]} </strong>
              ) : (
                <a lang={l} href={`/console/lang?to=${l}&back=${encodeURIComponent(props.here)}`}>
                  {LANG_NAMES[l]}{" "}
                </a>
              ),
            )}
          </span>
          {viewer ? (
            <>
              <span>{t("nav.signed_in_as", { name: viewer.name, role: t(`role.${viewer.role}`) })}</span>
              <form method="post" action="/console/logout">
                <input type="hidden" name="_csrf" value={viewer.csrf} />
                <button type="submit">{t("nav.signout")}</button>
              </form>
            </>
          ) : null}
        </header>
        {props.banners.map((b) => (
          <div class="banner" role="status">
            <a class="incident-link" href={`/console/incidents/${b.id}`}>
              {t("incident.banner", {
                platform: b.platform,
                title: b.title,
                since: `${b.startedAt.toISOString().replace("T", " ").slice(0, 16)} UTC`,
              })}
            </a>
          </div>
        ))}
        <main id="main">{props.children}</main>
        {/* The attributions the bundled network and location data require on pages that show it (docs/enrichment.md). */}
        <footer class="muted">
          {t("footer.data")} This product includes GeoLite2 data created by MaxMind, available from{" "}
          <a href="https://www.maxmind.com">https://www.maxmind.com</a>.{" "}
          <a href="https://db-ip.com">IP Geolocation by DB-IP</a>; ASN data from RouteViews and the NRO (CC BY
          4.0).
        </footer>
      </body>
    </html>
  );
}

export function LoginPage(props: PageFrame & { error?: string; notice?: string }) {
  const { t } = props;
  return (
    <Layout {...props} title={t("login.title")}>
      <div class="card">
        <h1>{t("login.title")}</h1>
        <p>{t("login.intro")}</p>
        {props.notice ? <p class="flash">{props.notice}</p> : null}
        {props.error ? (
          <p class="error" role="alert">
            {props.error}
          </p>
        ) : null}
        <form method="post" action="/console/login">
          <label>
            {t("login.token")}
            <br />
            <input type="password" name="token" autocomplete="current-password" required size={48} />
          </label>{" "}
          <button class="primary" type="submit">
            {t("login.submit")}
          </button>
        </form>
      </div>
    </Layout>
  );
}

export function ErrorPage(props: PageFrame & { message: string }) {
  return (
    <Layout {...props} title={props.t("error.title")}>
      <h1>{props.t("error.title")}</h1>
      <p class="error" role="alert">
        {props.message}
      </p>
      <p>
        <a href="/console">{props.t("case.back")}</a>
      </p>
    </Layout>
  );
}

export const accountText = (names: Map<string, AccountName>, id: string) => {
  const a = names.get(id);
  return a ? `${a.platform}/${a.ref}` : id;
};

/** How people read an incident: `platform: title`, without doubling a platform the title already starts with. */
export const incidentName = (i: { platform: string; title: string }) =>
  i.title.startsWith(`${i.platform}:`) ? i.title : `${i.platform}: ${i.title}`;

export const Severity = ({ t, severity }: { t: Translate; severity: string }) => (
  <span class={`sev sev-${severity}`}>{t(`severity.${severity}` as MessageKey)}</span>
);

export const RULES = [
  "new_ip",
  "new_network",
  "new_country",
  "datacenter_network",
  "new_region",
  "new_device",
  "ua_changed",
  "locale_changed",
  "timezone_mismatch",
  "impossible_travel",
  "env_hopping",
  "pin_violation",
  "unbound_environment",
  "shared_device",
  "shared_ip",
  "shared_subnet",
  "platform_incident",
  "incident_network_switch",
  "retry_storm",
  "sensitive_op_during_incident",
] as const;

export const ruleText = (t: Translate, rule: string) =>
  (RULES as readonly string[]).includes(rule) ? t(`rule.${rule}` as MessageKey) : t("rule.unknown", { rule });

export const CASE_STATUSES = ["open", "acknowledged", "resolved", "dismissed"] as const;

export interface QueueFilter {
  status?: string | undefined;
  severity?: string | undefined;
  rule?: string | undefined;
  platform?: string | undefined;
  group?: string | undefined;
  account?: string | undefined;
  incident?: string | undefined;
}

/** The cases raised under one active incident, folded into one line of the queue. */
export interface IncidentGroup {
  id: string;
  title: string;
  cases: number;
  accounts: number;
  severity: string | null;
}

export function QueuePage(
  props: PageFrame & {
    cases: Case<AlertRow>[];
    groups: IncidentGroup[];
    groupNames: string[];
    /** the newest case of the workspace, whatever the filters: the poll compares against it */
    newest: string | null;
    csv: string;
    total: number;
    page: number;
    pages: number;
    filter: QueueFilter;
    platforms: string[];
    incidents: Array<{ id: string; title: string }>;
    names: Map<string, AccountName>;
    query: (change: Record<string, string | undefined>) => string;
  },
) {
  const { t, filter } = props;
  const option = (value: string, label: string, current: string | undefined) => (
    <option value={value} selected={current === value}>
      {label}
    </option>
  );
  return (
    <Layout {...props} title={t("queue.title")}>
      <h1>
        {t("queue.title")} <span class="muted">{t("queue.count", { count: props.total })}</span>
      </h1>
      <p
        id="new-cases"
        class="flash"
        role="status"
        data-poll="/console/poll"
        data-newest={props.newest ?? ""}
        hidden
      >
        <a href={props.here}>↻ {t("queue.new_cases")}</a>
      </p>
      <form class="filters card" method="get" action="/console">
        <label>
          {t("filter.status")}
          <select name="status" data-autosubmit="">
            {option("", t("queue.any"), filter.status ?? "")}
            {CASE_STATUSES.map((s) => option(s, t(`status.${s}`), filter.status))}
          </select>
        </label>
        <label>
          {t("filter.severity")}
          <select name="severity" data-autosubmit="">
            {option("", t("queue.any"), filter.severity ?? "")}
            {[...SEVERITIES].reverse().map((s) => option(s, t(`severity.${s}`), filter.severity))}
          </select>
        </label>
        <label>
          {t("filter.rule")}
          <select name="rule" data-autosubmit="">
            {option("", t("queue.any"), filter.rule ?? "")}
            {RULES.map((r) => option(r, r, filter.rule))}
          </select>
        </label>
        <label>
          {t("filter.platform")}
          <select name="platform" data-autosubmit="">
            {option("", t("queue.any"), filter.platform ?? "")}
            {props.platforms.map((p) => option(p, p, filter.platform))}
          </select>
        </label>
        <label>
          {t("accounts.group")}
          <select name="group" data-autosubmit="">
            {option("", t("queue.any"), filter.group ?? "")}
            {props.groupNames.map((g) => option(g, g, filter.group))}
          </select>
        </label>
        <label>
          {t("filter.account")}
          <input name="account" value={filter.account ?? ""} size={22} />
        </label>
        <label>
          {t("filter.incident")}
          <select name="incident" data-autosubmit="">
            {option("", t("filter.incident_any"), filter.incident ?? "")}
            {option("any", t("filter.incident_during"), filter.incident)}
            {props.incidents.map((i) => option(i.id, i.title, filter.incident))}
          </select>
        </label>
        <button class="primary" type="submit">
          {t("queue.filter")}
        </button>
        <a href="/console">{t("queue.clear")}</a>
        <a href={props.csv} download="">
          {t("queue.export")}
        </a>
      </form>
      {props.groups.map((g) => (
        <p class="card incident-group" data-incident={g.id}>
          {g.severity ? <Severity t={t} severity={g.severity} /> : null}{" "}
          {t("queue.incident_group", { cases: g.cases, accounts: g.accounts, title: g.title })}{" "}
          <a href={props.query({ incident: g.id, page: undefined })}>{t("queue.incident_open")}</a>
        </p>
      ))}
      {props.cases.length === 0 && props.groups.length === 0 ? (
        <p class="card">{t("queue.empty")}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{t("col.severity")}</th>
              <th>{t("col.account")}</th>
              <th>{t("col.findings")}</th>
              <th>{t("col.status")}</th>
              <th class="wide">{t("col.when")}</th>
            </tr>
          </thead>
          <tbody>
            {props.cases.map((c) => (
              <tr class={`case sev-row-${c.severity}`} data-case={c.id}>
                <td>
                  <Severity t={t} severity={c.severity} />
                </td>
                <td>
                  <a href={`/console/cases/${c.id}`}>
                    {c.accountIds.length > 0
                      ? c.accountIds.map((id) => accountText(props.names, id)).join(" · ")
                      : ruleText(t, c.alerts[0]!.rule)}
                  </a>
                  {/* The worst finding in words: why the case is there, without opening it. */}
                  <div class="muted why">
                    {renderFinding(
                      props.lang,
                      props.names,
                      c.alerts[0]!.rule,
                      c.alerts[0]!.evidence,
                      c.alerts[0]!.summary,
                    )}
                  </div>
                </td>
                <td>
                  <span class="muted">{t("queue.findings", { count: c.alerts.length })}</span>
                  <div class="rules">
                    {c.alerts.map((a) => (
                      <span class="rule" title={ruleText(t, a.rule)}>
                        {a.rule}
                      </span>
                    ))}
                  </div>
                </td>
                <td>{t(`status.${c.status}`)}</td>
                <td class="wide">
                  <Time at={c.firstSeenAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager">
        {props.page > 1 ? (
          <a href={props.query({ page: String(props.page - 1) })}>← {t("queue.newer")}</a>
        ) : null}
        <span class="muted">
          {props.page} / {Math.max(1, props.pages)}
        </span>
        {props.page < props.pages ? (
          <a href={props.query({ page: String(props.page + 1) })}>{t("queue.older")} →</a>
        ) : null}
      </nav>
    </Layout>
  );
}

/** Evidence fields shown as "seen", as "expected", and the rest, with the label key of each. */
const SEEN: Record<string, MessageKey> = {
  ip: "field.ip",
  asn: "field.asn",
  asn_org: "field.asn_org",
  country: "field.country",
  region: "field.region",
  timezone: "field.timezone",
  device_id: "field.device",
  profile: "field.profile",
  value: "field.value",
  ips: "field.ips",
  from: "field.from",
  to: "field.to",
  operation: "field.operation",
  operator: "field.operator",
  accounts: "field.accounts",
};
const EXPECTED: Record<string, MessageKey> = {
  known_countries: "field.known_countries",
  known_regions: "field.known_regions",
  known_asns: "field.known_asns",
  known_timezones: "field.known_timezones",
  known_devices: "field.known_devices",
  ip_timezone: "field.ip_timezone",
  pinned: "field.pinned",
};
const HIDDEN = new Set(["event_id", "occurred_at", "baseline_values", "incident_id", "risk"]);

/** A value of the evidence as text: account ids become platform/ref, structures compact JSON. */
function valueText(names: Map<string, AccountName>, value: unknown): string {
  const swap = (v: unknown): unknown => {
    if (typeof v === "string") return names.has(v) ? accountText(names, v) : v;
    if (Array.isArray(v)) return v.map(swap);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [k === "account_id" ? "account" : k, swap(x)]),
      );
    }
    return v;
  };
  const swapped = swap(value);
  if (Array.isArray(swapped) && swapped.every((x) => typeof x !== "object")) return swapped.join(", ");
  return typeof swapped === "object" && swapped !== null ? JSON.stringify(swapped) : String(swapped);
}

/** The store's local time of an instant: the timezone its device reported, when the evidence has one. */
function storeTime(at: Date, timezone: unknown): string | null {
  if (typeof timezone !== "string") return null;
  try {
    return `${new Intl.DateTimeFormat("sv-SE", { timeZone: timezone, dateStyle: "short", timeStyle: "short" }).format(at)} (${timezone})`;
  } catch {
    return null;
  }
}

function Evidence({
  t,
  lang,
  alert,
  names,
  events,
}: {
  t: Translate;
  lang: Lang;
  alert: AlertRow;
  names: Map<string, AccountName>;
  events: EventLine[];
}) {
  const e = alert.evidence;
  const occurred = typeof e.occurred_at === "string" ? new Date(e.occurred_at) : alert.firstSeenAt;
  // The store's clock is the one its environment reports: the finding's event's timezone.
  const local = storeTime(occurred, e.timezone ?? events.find((x) => x.id === e.event_id)?.timezone);
  const rows = (table: Record<string, MessageKey>) =>
    Object.entries(table)
      .filter(([k]) => e[k] !== undefined && e[k] !== null)
      .map(([k, label]) => (
        <>
          <dt>{t(label)}</dt>
          <dd>{valueText(names, e[k])}</dd>
        </>
      ));
  const other = Object.keys(e).filter((k) => !(k in SEEN) && !(k in EXPECTED) && !HIDDEN.has(k));
  return (
    <dl class="facts">
      <dt>{t("evidence.when")}</dt>
      <dd>
        <Time at={occurred} /> <span class="muted">({t("evidence.your_time")})</span>
        {local ? (
          <>
            {" · "}
            {local} <span class="muted">({t("evidence.store_time")})</span>
          </>
        ) : null}
      </dd>
      {rows(SEEN)}
      {rows(EXPECTED)}
      {typeof e.event_id === "string" ? (
        <>
          <dt>{t("evidence.event")}</dt>
          <dd>{e.event_id}</dd>
        </>
      ) : null}
      {other.length > 0 ? (
        <>
          <dt>{t("evidence.other")}</dt>
          <dd class="muted">{valueText(names, Object.fromEntries(other.map((k) => [k, e[k]])))}</dd>
        </>
      ) : null}
      <dt>{t("case.rule_summary")}</dt>
      <dd class="muted">{renderFinding(lang, names, alert.rule, alert.evidence, alert.summary)}</dd>
    </dl>
  );
}

export interface EventLine {
  id: string;
  accountId: string | null;
  at: Date;
  type: string;
  operation: string | null;
  operator: string | null;
  ip: string | null;
  place: string;
  deviceId: string | null;
  timezone: string | null;
  userAgent: string | null;
  result: string;
}

export function Events({
  t,
  events,
  names,
}: {
  t: Translate;
  events: EventLine[];
  names: Map<string, AccountName>;
}) {
  return (
    <table class="events">
      <thead>
        <tr>
          <th>{t("col.when")}</th>
          <th>{t("col.account")}</th>
          <th>{t("col.type")}</th>
          <th>{t("col.operator")}</th>
          <th>{t("col.network")}</th>
          <th class="wide">{t("col.device")}</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr data-event={e.id}>
            <td>
              <Time at={e.at} />
            </td>
            <td>{e.accountId ? accountText(names, e.accountId) : ""}</td>
            <td>
              {e.type}
              {e.operation ? ` · ${e.operation}` : ""} <span class="muted">{e.result}</span>
            </td>
            <td class="operator">{e.operator ?? ""}</td>
            <td>
              {e.ip ?? ""} <span class="muted">{e.place}</span>
            </td>
            <td class="wide">
              {e.deviceId ?? ""}
              <br />
              <span class="muted ua">{e.userAgent ?? ""}</span>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface AuditLine {
  at: Date;
  actor: string;
  action: string;
  details: Record<string, unknown>;
}

export function CasePage(
  props: PageFrame & {
    kase: Case<AlertRow>;
    names: Map<string, AccountName>;
    audit: AuditLine[];
    events: EventLine[];
    incidentTitle: string | null;
    risks: EventRisk[];
    related: RelatedLine[];
    flash?: string | undefined;
  },
) {
  const { t, kase, names, viewer } = props;
  const accounts = kase.accountIds.map((id) => accountText(names, id)).join(" · ") || kase.alerts[0]!.rule;
  const canAct = viewer !== null && viewer.role !== "viewer";
  return (
    <Layout {...props} title={t("case.title", { accounts })}>
      <p>
        <a href="/console">← {t("case.back")}</a>
      </p>
      <h1>
        <Severity t={t} severity={kase.severity} /> {t("case.title", { accounts })}
      </h1>
      <p>
        {t("case.summary", {
          count: kase.alerts.length,
          from: kase.firstSeenAt.toISOString().replace("T", " ").slice(0, 16),
          to: kase.lastSeenAt.toISOString().replace("T", " ").slice(0, 16),
          severity: t(`severity.${kase.severity}`),
        })}{" "}
        {t(`status.${kase.status}`)}
      </p>
      {props.incidentTitle ? (
        <p class="banner">{t("case.incident", { title: props.incidentTitle })}</p>
      ) : null}
      {props.flash ? (
        <p class="flash" role="status">
          {props.flash}
        </p>
      ) : null}
      <h2>{t("case.findings")}</h2>
      {kase.alerts.map((a) => (
        <section class="card finding" data-rule={a.rule}>
          <h3>
            <Severity t={t} severity={a.severity} /> {ruleText(t, a.rule)} <span class="rule">{a.rule}</span>{" "}
            <span class="muted">{t(`status.${a.status}`)}</span>
          </h3>
          <Evidence t={t} lang={props.lang} alert={a} names={names} events={props.events} />
        </section>
      ))}
      <RiskFactors t={t} risks={props.risks} />
      <RelatedAccounts t={t} related={props.related} names={names} />
      <h2>{t("case.events")}</h2>
      <Events t={t} events={props.events} names={names} />
      <h2>{t("case.actions")}</h2>
      {canAct ? (
        <form class="card" method="post" action={`/console/cases/${kase.id}/act`}>
          <input type="hidden" name="_csrf" value={viewer.csrf} />
          <p>
            <label>
              {t("case.note")}
              <br />
              <textarea name="note" rows={2} cols={60} maxlength={2000} />
            </label>
          </p>
          <p>
            {t("case.verdict")}:{" "}
            {(["", "actionable", "false_positive"] as const).map((v) => (
              <label>
                <input type="radio" name="verdict" value={v} checked={v === ""} />{" "}
                {t(v === "" ? "case.verdict_none" : `case.verdict_${v}`)}{" "}
              </label>
            ))}
          </p>
          <p>
            {(["acknowledge", "resolve", "dismiss", "trust"] as const).map((action) => (
              <>
                <button class="act" type="submit" name="action" value={action}>
                  {t(`action.${action}`)}
                </button>{" "}
              </>
            ))}
          </p>
        </form>
      ) : (
        <p class="card muted">{t("case.read_only")}</p>
      )}
      <h2>{t("case.audit")}</h2>
      {props.audit.length === 0 ? (
        <p class="muted">{t("case.audit_empty")}</p>
      ) : (
        <ol class="audit">
          {props.audit.map((line) => (
            <li>
              <Time at={line.at} /> ·{" "}
              {t("audit.entry", {
                who: line.actor,
                action: line.action,
                from: String(line.details.from ?? "?"),
                to: String(line.details.to ?? "?"),
              })}
              {line.details.verdict ? ` · ${String(line.details.verdict)}` : ""}
              {line.details.note ? <q> {String(line.details.note)} </q> : null}
            </li>
          ))}
        </ol>
      )}
    </Layout>
  );
}
