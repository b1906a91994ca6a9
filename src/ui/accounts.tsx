/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { PIN_DIMENSIONS, type Pin, SEVERITIES } from "../core/model.ts";
import type { MessageKey, Translate } from "../i18n/index.ts";
import { type EventLine, Events, Layout, type PageFrame, Severity, Time } from "./pages.tsx";

export const ACCOUNT_STATES = ["learning", "established"] as const;

export interface AccountLine {
  id: string;
  platform: string;
  ref: string;
  label: string | null;
  group: string | null;
  state: string;
  events: number;
  openAlerts: number;
  /** the worst severity among its open findings, null when none is open */
  risk: string | null;
}

export interface AccountsFilter {
  q?: string | undefined;
  platform?: string | undefined;
  group?: string | undefined;
  state?: string | undefined;
}

const option = (value: string, label: string, current: string | undefined) => (
  <option value={value} selected={(current ?? "") === value}>
    {label}
  </option>
);

export function AccountsPage(
  props: PageFrame & {
    accounts: AccountLine[];
    total: number;
    page: number;
    pages: number;
    filter: AccountsFilter;
    platforms: string[];
    groups: string[];
    query: (change: Record<string, string | undefined>) => string;
  },
) {
  const { t, filter } = props;
  return (
    <Layout {...props} title={t("accounts.title")}>
      <h1>
        {t("accounts.title")} <span class="muted">{t("accounts.count", { count: props.total })}</span>
      </h1>
      <form class="filters card" method="get" action="/console/accounts">
        <label>
          {t("accounts.search")}
          <input name="q" value={filter.q ?? ""} size={22} />
        </label>
        <label>
          {t("filter.platform")}
          <select name="platform" data-autosubmit="">
            {option("", t("queue.any"), filter.platform)}
            {props.platforms.map((p) => option(p, p, filter.platform))}
          </select>
        </label>
        <label>
          {t("accounts.group")}
          <select name="group" data-autosubmit="">
            {option("", t("queue.any"), filter.group)}
            {props.groups.map((g) => option(g, g, filter.group))}
          </select>
        </label>
        <label>
          {t("accounts.state")}
          <select name="state" data-autosubmit="">
            {option("", t("queue.any"), filter.state)}
            {ACCOUNT_STATES.map((s) => option(s, t(`state.${s}`), filter.state))}
          </select>
        </label>
        <button class="primary" type="submit">
          {t("queue.filter")}
        </button>
        <a href="/console/accounts">{t("queue.clear")}</a>
      </form>
      {props.accounts.length === 0 ? (
        <p class="card">{t("accounts.empty")}</p>
      ) : (
        <table class="accounts">
          <thead>
            <tr>
              <th>{t("col.account")}</th>
              <th>{t("accounts.group")}</th>
              <th>{t("accounts.state")}</th>
              <th>{t("accounts.risk")}</th>
              <th>{t("accounts.open_alerts")}</th>
              <th class="wide">{t("accounts.events")}</th>
            </tr>
          </thead>
          <tbody>
            {props.accounts.map((a) => (
              <tr data-account={a.id}>
                <td>
                  <a href={`/console/accounts/${a.id}`}>{`${a.platform}/${a.ref}`}</a>
                  {a.label ? <span class="muted"> {a.label}</span> : null}
                </td>
                <td>{a.group ?? <span class="muted">{t("accounts.no_group")}</span>}</td>
                <td>{t(`state.${a.state}` as MessageKey)}</td>
                <td>
                  {a.risk ? (
                    <Severity t={t} severity={a.risk} />
                  ) : (
                    <span class="muted">{t("accounts.calm")}</span>
                  )}
                </td>
                <td>{a.openAlerts}</td>
                <td class="wide">{a.events}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager">
        {props.page > 1 ? (
          <a href={props.query({ page: String(props.page - 1) })}>← {t("accounts.previous")}</a>
        ) : null}
        <span class="muted">
          {props.page} / {Math.max(1, props.pages)}
        </span>
        {props.page < props.pages ? (
          <a href={props.query({ page: String(props.page + 1) })}>{t("accounts.next")} →</a>
        ) : null}
      </nav>
    </Layout>
  );
}

export interface BaselineLine {
  kind: string;
  value: string;
  count: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  accepted: boolean;
  /** when the value healed into the baseline by itself (docs/adr/0003) */
  healedAt: Date | null;
  /** a quarantined value's clean uses so far, and whether only a person can accept it */
  heal: { cleanEvents: number; blocked: boolean } | null;
}

/** The pin's list a baseline kind is held to, if any. */
const PIN_FIELD: Record<string, keyof Pin> = {
  ip: "cidrs",
  subnet: "cidrs",
  asn: "asns",
  country: "countries",
  region: "regions",
  timezone: "timezones",
  locale: "locales",
  device: "device_ids",
};

/**
 * pinned: an admin fixed it; learned: normal for the account; auto_learned: healed into the baseline after a
 * clean streak; new: seen but never accepted.
 */
export function baselineSource(
  pin: Pin | null,
  line: BaselineLine,
): "pinned" | "learned" | "auto_learned" | "new" {
  const field = PIN_FIELD[line.kind];
  const listed = field && pin ? (pin[field] as Array<string | number> | undefined) : undefined;
  if (listed?.some((v) => String(v) === line.value)) return "pinned";
  if (!line.accepted) return "new";
  return line.healedAt ? "auto_learned" : "learned";
}

/** How far a quarantined value is on its way to healing by itself. */
function healNote(t: Translate, line: BaselineLine, needed: number): string | null {
  if (line.accepted || !line.heal) return null;
  if (line.heal.blocked) return t("baseline.heal_blocked");
  return t("baseline.healing", { n: line.heal.cleanEvents, needed });
}

export interface AccountCase {
  id: string;
  severity: string;
  status: string;
  rules: string[];
  firstSeenAt: Date;
}

export function AccountPage(
  props: PageFrame & {
    account: AccountLine;
    pin: Pin | null;
    baseline: BaselineLine[];
    /** clean uses that heal a quarantined value (TETHER_HEAL_EVENTS) */
    healEvents: number;
    events: EventLine[];
    cases: AccountCase[];
    environments: string[];
    flash?: string | undefined;
  },
) {
  const { t, account, viewer } = props;
  const name = `${account.platform}/${account.ref}`;
  return (
    <Layout {...props} title={name}>
      <p>
        <a href="/console/accounts">← {t("account.back")}</a>
      </p>
      <h1>
        {name} {account.label ? <span class="muted">{account.label}</span> : null}
      </h1>
      <dl class="facts">
        <dt>{t("accounts.group")}</dt>
        <dd>{account.group ?? t("accounts.no_group")}</dd>
        <dt>{t("accounts.state")}</dt>
        <dd>{t(`state.${account.state}` as MessageKey)}</dd>
        <dt>{t("account.environments")}</dt>
        <dd>{props.environments.length > 0 ? props.environments.join(", ") : t("account.no_environment")}</dd>
        <dt>{t("account.pin")}</dt>
        <dd>{props.pin ? pinText(props.pin) : t("account.no_pin")}</dd>
        <dt>{t("accounts.events")}</dt>
        <dd>{account.events}</dd>
      </dl>
      {props.flash ? (
        <p class="flash" role="status">
          {props.flash}
        </p>
      ) : null}
      {viewer?.role === "admin" ? <SettingsForm {...props} /> : null}
      <h2>{t("account.cases")}</h2>
      {props.cases.length === 0 ? (
        <p class="muted">{t("account.no_cases")}</p>
      ) : (
        <ul class="cases">
          {props.cases.map((k) => (
            <li>
              <Severity t={t} severity={k.severity} />{" "}
              <a href={`/console/cases/${k.id}`}>{k.rules.join(", ")}</a> ·{" "}
              {t(`status.${k.status}` as MessageKey)} · <Time at={k.firstSeenAt} />
            </li>
          ))}
        </ul>
      )}
      <h2>{t("account.baseline")}</h2>
      {props.baseline.length === 0 ? (
        <p class="muted">{t("account.no_baseline")}</p>
      ) : (
        <table class="baseline">
          <thead>
            <tr>
              <th>{t("baseline.kind")}</th>
              <th>{t("baseline.value")}</th>
              <th>{t("baseline.count")}</th>
              <th class="wide">{t("baseline.first_seen")}</th>
              <th>{t("baseline.last_seen")}</th>
              <th>{t("baseline.source")}</th>
            </tr>
          </thead>
          <tbody>
            {props.baseline.map((b) => {
              const source = baselineSource(props.pin, b);
              return (
                <tr data-kind={b.kind}>
                  <td>{t(`kind.${b.kind}` as MessageKey)}</td>
                  <td class="ua">{b.value}</td>
                  <td>{b.count}</td>
                  <td class="wide">
                    <Time at={b.firstSeenAt} />
                  </td>
                  <td>
                    <Time at={b.lastSeenAt} />
                  </td>
                  <td class={`source-${source}`}>
                    {t(`baseline.${source}`)}
                    {source === "new" && healNote(t, b, props.healEvents) ? (
                      <span class="muted"> · {healNote(t, b, props.healEvents)}</span>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <h2>{t("account.timeline")}</h2>
      {props.events.length === 0 ? (
        <p class="muted">{t("account.no_events")}</p>
      ) : (
        <Events t={t} events={props.events} names={new Map([[account.id, { ...account, id: account.id }]])} />
      )}
    </Layout>
  );
}

/** An admin's form for the account's isolation group and pin; the server checks the role again. */
function SettingsForm(props: PageFrame & { account: AccountLine; pin: Pin | null }) {
  const { t, account, pin, viewer } = props;
  return (
    <details class="card settings">
      <summary>{t("settings.title")}</summary>
      <form method="post" action={`/console/accounts/${account.id}/settings`}>
        <input type="hidden" name="_csrf" value={viewer?.csrf ?? ""} />
        <p>
          <label>
            {t("accounts.group")}
            <br />
            <input name="group" value={account.group ?? ""} maxlength={64} size={30} />
          </label>{" "}
          <span class="muted">{t("settings.group_help")}</span>
        </p>
        <p class="muted">{t("settings.pin_help")}</p>
        <div class="pin-fields">
          {PIN_DIMENSIONS.map((field) => (
            <label>
              {t(`pin.${field}`)}
              <br />
              <textarea name={`pin_${field}`} rows={2} cols={28}>
                {(pin?.[field] ?? []).join("\n")}
              </textarea>
            </label>
          ))}
        </div>
        <p>
          <button class="primary" type="submit">
            {t("settings.save")}
          </button>
        </p>
      </form>
    </details>
  );
}

const pinText = (pin: Pin) =>
  Object.entries(pin)
    .filter(([, v]) => Array.isArray(v) && v.length > 0)
    .map(([k, v]) => `${k}: ${(v as unknown[]).join(", ")}`)
    .join(" · ");

export interface GraphNode {
  id: string;
  label: string;
  group: string | null;
}

export interface GraphEdge {
  a: string;
  b: string;
  kind: "device" | "ip" | "subnet";
  value: string;
}

export interface GraphCluster {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** A circle wide enough that neighbours' labels stay apart as a cluster grows, and the picture around it. */
const radiusOf = (nodes: number) => Math.max(140, nodes * 14);
const sizeOf = (nodes: number) => 2 * radiusOf(nodes) + 140;
/** Colour-blind-friendly palette (Okabe–Ito); accounts without a group are grey. */
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000"];
const NO_GROUP = "#999999";
const KINDS = ["device", "ip", "subnet"] as const;

export const groupColour = (groups: string[], group: string | null) =>
  group === null ? NO_GROUP : PALETTE[Math.max(0, groups.indexOf(group)) % PALETTE.length]!;

/** Each node's place: evenly on one circle, in label order, so the same data always draws the same. */
export function layout(nodes: GraphNode[]): Map<string, { x: number; y: number }> {
  const sorted = [...nodes].sort((x, y) => x.label.localeCompare(y.label));
  const c = sizeOf(sorted.length) / 2;
  const r = radiusOf(sorted.length);
  return new Map(
    sorted.map((n, i) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / sorted.length;
      return [n.id, { x: round(c + r * Math.cos(angle)), y: round(c + r * Math.sin(angle)) }];
    }),
  );
}

const round = (n: number) => Math.round(n * 10) / 10;

function ClusterGraph({
  t,
  cluster,
  groups,
  index,
}: {
  t: PageFrame["t"];
  cluster: GraphCluster;
  groups: string[];
  index: number;
}) {
  const at = layout(cluster.nodes);
  const size = sizeOf(cluster.nodes.length);
  const title = t("graph.cluster", {
    n: index + 1,
    accounts: cluster.nodes.length,
    links: cluster.edges.length,
  });
  return (
    <figure class="card cluster" data-cluster={String(index + 1)}>
      <figcaption>{title}</figcaption>
      <svg
        class="graph"
        viewBox={`0 0 ${size} ${size}`}
        width={size}
        height={size}
        role="img"
        aria-label={title}
        xmlns="http://www.w3.org/2000/svg"
      >
        {cluster.edges.map((e) => {
          const p = at.get(e.a)!;
          const q = at.get(e.b)!;
          // Two accounts can share a device, an IP and a subnet at once: each kind bends its own way.
          const bend = (KINDS.indexOf(e.kind) - 1) * 24;
          const [mx, my] = [(p.x + q.x) / 2, (p.y + q.y) / 2];
          const len = Math.hypot(q.x - p.x, q.y - p.y) || 1;
          const cx = round(mx - ((q.y - p.y) / len) * bend);
          const cy = round(my + ((q.x - p.x) / len) * bend);
          return (
            <path class={`edge edge-${e.kind}`} d={`M ${p.x} ${p.y} Q ${cx} ${cy} ${q.x} ${q.y}`}>
              <title>{`${t(`kind.${e.kind}`)}: ${e.value}`}</title>
            </path>
          );
        })}
        {cluster.nodes.map((n) => {
          const p = at.get(n.id)!;
          return (
            <a class="node" href={`/console/accounts/${n.id}`} data-account={n.id}>
              <circle cx={p.x} cy={p.y} r={12} fill={groupColour(groups, n.group)} />
              <text x={p.x} y={p.y + 28} text-anchor="middle">
                {n.label}
              </text>
            </a>
          );
        })}
      </svg>
    </figure>
  );
}

export function AssociationsPage(props: PageFrame & { clusters: GraphCluster[]; truncated: boolean }) {
  const { t } = props;
  const groups = [
    ...new Set(props.clusters.flatMap((c) => c.nodes.map((n) => n.group)).filter((g) => g !== null)),
  ].sort();
  const anyUngrouped = props.clusters.some((c) => c.nodes.some((n) => n.group === null));
  return (
    <Layout {...props} title={t("graph.title")}>
      <h1>
        {t("graph.title")} <span class="muted">{t("graph.count", { count: props.clusters.length })}</span>
      </h1>
      <p>{t("graph.intro")}</p>
      {props.truncated ? <p class="banner">{t("graph.truncated")}</p> : null}
      <section class="card legend" aria-label={t("graph.legend")}>
        <strong>{t("graph.legend")}</strong>
        <ul class="groups edges">
          {KINDS.map((k) => (
            <li>
              <svg
                viewBox="0 0 50 12"
                width={50}
                height={12}
                aria-hidden="true"
                xmlns="http://www.w3.org/2000/svg"
              >
                <line class={`edge edge-${k}`} x1={0} y1={6} x2={50} y2={6} />
              </svg>{" "}
              {t(`graph.edge_${k}`)}
            </li>
          ))}
        </ul>
        <ul class="groups">
          {groups.map((g) => (
            <li>
              <svg
                viewBox="0 0 12 12"
                width={12}
                height={12}
                aria-hidden="true"
                xmlns="http://www.w3.org/2000/svg"
              >
                <circle cx={6} cy={6} r={6} fill={groupColour(groups, g)} />
              </svg>{" "}
              {t("graph.group", { group: g })}
            </li>
          ))}
          {anyUngrouped ? (
            <li>
              <svg
                viewBox="0 0 12 12"
                width={12}
                height={12}
                aria-hidden="true"
                xmlns="http://www.w3.org/2000/svg"
              >
                <circle cx={6} cy={6} r={6} fill={NO_GROUP} />
              </svg>{" "}
              {t("accounts.no_group")}
            </li>
          ) : null}
        </ul>
      </section>
      {props.clusters.length === 0 ? (
        <p class="card">{t("graph.empty")}</p>
      ) : (
        <div class="clusters">
          {props.clusters.map((c, i) => (
            <ClusterGraph t={t} cluster={c} groups={groups} index={i} />
          ))}
        </div>
      )}
    </Layout>
  );
}

export const severityRank = (s: string) => SEVERITIES.indexOf(s as (typeof SEVERITIES)[number]);
