/**
 * Pre-drill verification: is every account in scope in a known, isolated, watched state right now? A drill
 * (a chaos experiment, a failover rehearsal) run on a matrix that is already drifting would blame the drill
 * for damage that was there before it, so drill tools gate on this report. Pure: the service loads the facts.
 */
import type { FindingText, TextParam } from "./finding-text.ts";
import type { Settings } from "./model.ts";

/** The checks, in the order each account reports them; the ids are stable for machines. */
export const DRILL_CHECKS = ["baseline", "open_alerts", "isolation", "heartbeat", "incident"] as const;
export type DrillCheck = (typeof DRILL_CHECKS)[number];

/** An agent that has not reported for this long may not be watching the account during the drill. */
export const HEARTBEAT_MINUTES = 15;

/**
 * Alerts about a platform incident and how accounts behaved during one: the incident check covers the
 * platform, and these say nothing about the account's own consistency or isolation. Every other rule is a
 * consistency or association rule, so a rule added later gates drills by default.
 */
const INCIDENT_RULES = new Set([
  "platform_incident",
  "incident_network_switch",
  "retry_storm",
  "sensitive_op_during_incident",
]);

/** At most this many shared values or alerts are named in one detail; the rest are counted. */
const NAMED = 5;
const KIND_WORDS: Record<string, FindingText["key"]> = {
  device: "drills.kind.device",
  ip: "drills.kind.ip",
  subnet: "drills.kind.subnet",
};
const MINUTE = 60_000;

export interface DrillAccount {
  id: string;
  platform: string;
  ref: string;
  state: "learning" | "established";
  pinned: boolean;
  eventCount: number;
}

export interface DrillFacts {
  now: number;
  shareDays: number;
  /** the accounts in scope, in the order they are reported */
  accounts: DrillAccount[];
  /** open or acknowledged alerts that name any account in scope */
  alerts: Array<{ id: string; rule: string; accountIds: string[] }>;
  /** values an account in scope used within the sharing window that an account of another group used too */
  shares: Array<{ accountId: string; kind: string; value: string; peerId: string; peerGroup: string | null }>;
  /** per account bound to an environment: the latest heartbeat of its environments (null: none yet) */
  heartbeats: ReadonlyMap<string, number | null>;
  /** active incidents of the workspace */
  incidents: Array<{ id: string; platform: string; title: string; startedAt: number }>;
}

export interface CheckResult {
  check: DrillCheck;
  ok: boolean;
  /** the detail as a sentence of the catalogue, worded in the reader's language when shown */
  text: FindingText;
}

export interface AccountResult {
  accountId: string;
  platform: string;
  ref: string;
  checks: CheckResult[];
}

export interface DrillReport {
  verdict: "pass" | "fail";
  checkedAt: number;
  accounts: AccountResult[];
  /** one sentence over the whole run */
  summary: FindingText;
}

/**
 * The baseline kinds the sharing index keeps a subnet under: `subnet` at the default /24 and /48, or
 * `subnet/<prefix>` at a length the workspace chose (src/core/sharing.ts); null when subnets are not compared.
 */
export function subnetKinds(settings: Pick<Settings, "sharedSubnet">): { v4: string; v6: string } | null {
  const { enabled, ipv4Prefix, ipv6Prefix } = settings.sharedSubnet;
  if (!enabled) return null;
  return {
    v4: ipv4Prefix === 24 ? "subnet" : `subnet/${ipv4Prefix}`,
    v6: ipv6Prefix === 48 ? "subnet" : `subnet/${ipv6Prefix}`,
  };
}

const text = (key: FindingText["key"], params: Record<string, TextParam> = {}): FindingText => ({
  key,
  params,
});

/** A list that names the first few items and counts the rest. */
function named(items: TextParam[]): TextParam {
  if (items.length <= NAMED) return { list: items };
  return {
    list: [...items.slice(0, NAMED), { key: "drills.more", params: { count: items.length - NAMED } }],
  };
}

function baselineCheck(a: DrillAccount): CheckResult {
  if (a.pinned) return { check: "baseline", ok: true, text: text("drills.baseline.pinned") };
  if (a.state === "established")
    return { check: "baseline", ok: true, text: text("drills.baseline.established") };
  return { check: "baseline", ok: false, text: text("drills.baseline.learning", { events: a.eventCount }) };
}

function alertsCheck(alerts: DrillFacts["alerts"]): CheckResult {
  const open = alerts.filter((al) => !INCIDENT_RULES.has(al.rule));
  if (open.length === 0) return { check: "open_alerts", ok: true, text: text("drills.alerts.none") };
  return {
    check: "open_alerts",
    ok: false,
    text: text("drills.alerts.open", {
      count: open.length,
      alerts: named(open.map((al) => ({ key: "drills.alerts.item", params: { rule: al.rule, id: al.id } }))),
    }),
  };
}

function isolationCheck(shares: DrillFacts["shares"], days: number): CheckResult {
  if (shares.length === 0)
    return { check: "isolation", ok: true, text: text("drills.isolation.clean", { days }) };
  const items: TextParam[] = shares.map((s) => ({
    key: s.peerGroup === null ? "drills.isolation.item_isolated" : "drills.isolation.item_group",
    params: {
      kind: { key: KIND_WORDS[s.kind.startsWith("subnet") ? "subnet" : s.kind] ?? "drills.kind.device" },
      value: s.value,
      account: { account_id: s.peerId },
      ...(s.peerGroup === null ? {} : { group: s.peerGroup }),
    },
  }));
  return {
    check: "isolation",
    ok: false,
    text: text("drills.isolation.shared", { days, shares: named(items) }),
  };
}

function heartbeatCheck(bound: boolean, last: number | null, now: number): CheckResult {
  if (!bound) return { check: "heartbeat", ok: false, text: text("drills.heartbeat.unbound") };
  if (last === null) return { check: "heartbeat", ok: false, text: text("drills.heartbeat.never") };
  const minutes = Math.max(0, Math.floor((now - last) / MINUTE));
  if (now - last <= HEARTBEAT_MINUTES * MINUTE) {
    return { check: "heartbeat", ok: true, text: text("drills.heartbeat.fresh", { minutes }) };
  }
  return {
    check: "heartbeat",
    ok: false,
    text: text("drills.heartbeat.stale", { minutes, limit: HEARTBEAT_MINUTES }),
  };
}

function incidentCheck(platform: string, incidents: DrillFacts["incidents"]): CheckResult {
  const active = incidents.filter((i) => i.platform === platform);
  if (active.length === 0)
    return { check: "incident", ok: true, text: text("drills.incident.none", { platform }) };
  return {
    check: "incident",
    ok: false,
    text: text("drills.incident.active", {
      platform,
      count: active.length,
      incidents: named(
        active.map((i) => ({
          key: "drills.incident.item",
          params: { title: i.title, since: new Date(i.startedAt).toISOString() },
        })),
      ),
    }),
  };
}

/** Runs every check on every account in scope; the verdict passes only when each check of each account does. */
export function verifyDrill(facts: DrillFacts): DrillReport {
  const alertsOf = new Map<string, DrillFacts["alerts"]>();
  for (const al of facts.alerts) {
    for (const id of new Set(al.accountIds)) alertsOf.set(id, [...(alertsOf.get(id) ?? []), al]);
  }
  const sharesOf = new Map<string, DrillFacts["shares"]>();
  for (const s of facts.shares) sharesOf.set(s.accountId, [...(sharesOf.get(s.accountId) ?? []), s]);
  const accounts = facts.accounts.map(
    (a): AccountResult => ({
      accountId: a.id,
      platform: a.platform,
      ref: a.ref,
      checks: [
        baselineCheck(a),
        alertsCheck(alertsOf.get(a.id) ?? []),
        isolationCheck(sharesOf.get(a.id) ?? [], facts.shareDays),
        heartbeatCheck(facts.heartbeats.has(a.id), facts.heartbeats.get(a.id) ?? null, facts.now),
        incidentCheck(a.platform, facts.incidents),
      ],
    }),
  );
  const failed = accounts.filter((a) => a.checks.some((c) => !c.ok)).length;
  // Nothing in scope is no evidence of readiness: a mistyped platform or group must not wave a drill through.
  const verdict = accounts.length > 0 && failed === 0 ? "pass" : "fail";
  const summary =
    accounts.length === 0
      ? text("drills.summary.empty")
      : failed === 0
        ? text("drills.summary.pass", { count: accounts.length })
        : text("drills.summary.fail", { failed, count: accounts.length });
  return { verdict, checkedAt: facts.now, accounts, summary };
}

/** The accounts that failed, each with only its failing checks. */
export function failedAccounts(report: Pick<DrillReport, "accounts">): AccountResult[] {
  return report.accounts
    .map((a) => ({ ...a, checks: a.checks.filter((c) => !c.ok) }))
    .filter((a) => a.checks.length > 0);
}
