import { SEVERITIES, type Severity, severityRank } from "./model.ts";

/** Findings of one account this close together belong to one episode, hence one case. */
export const CASE_EPISODE_MS = 10 * 60_000;

export interface CaseAlert {
  id: string;
  rule: string;
  severity: string;
  status: "open" | "acknowledged" | "resolved" | "dismissed";
  accountIds: string[];
  incidentId: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

export interface Case<A extends CaseAlert = CaseAlert> {
  /** the id of the case's earliest alert: stable while findings join it */
  id: string;
  /** worst first, then by rule */
  alerts: A[];
  accountIds: string[];
  severity: Severity;
  status: CaseAlert["status"];
  incidentId: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

const rankOf = (s: string) => Math.max(0, severityRank(s as Severity));
const STATUS_ORDER: CaseAlert["status"][] = ["open", "acknowledged", "resolved", "dismissed"];

/**
 * Groups alerts into cases: two alerts share a case when they share an account and were first seen within
 * CASE_EPISODE_MS of each other (chained, so a burst of findings over a few minutes stays one case). An
 * alert without accounts (a platform incident) is a case of its own. Newest case first.
 */
export function groupCases<A extends CaseAlert>(alerts: readonly A[]): Case<A>[] {
  const sorted = [...alerts].sort(
    (a, b) => a.firstSeenAt.getTime() - b.firstSeenAt.getTime() || a.id.localeCompare(b.id),
  );
  const parent = sorted.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const lastOfAccount = new Map<string, { at: number; index: number }>();
  sorted.forEach((alert, i) => {
    const at = alert.firstSeenAt.getTime();
    for (const account of alert.accountIds) {
      const last = lastOfAccount.get(account);
      if (last && at - last.at <= CASE_EPISODE_MS) parent[find(i)] = find(last.index);
      lastOfAccount.set(account, { at, index: i });
    }
  });
  const groups = new Map<number, A[]>();
  sorted.forEach((alert, i) => {
    const root = find(i);
    const list = groups.get(root) ?? [];
    list.push(alert);
    groups.set(root, list);
  });
  const cases = [...groups.values()].map((members): Case<A> => {
    const byWorst = [...members].sort(
      (a, b) => rankOf(b.severity) - rankOf(a.severity) || a.rule.localeCompare(b.rule),
    );
    const statuses = new Set(members.map((a) => a.status));
    return {
      id: members.map((a) => a.id).sort()[0]!,
      alerts: byWorst,
      accountIds: [...new Set(members.flatMap((a) => a.accountIds))],
      severity: SEVERITIES[Math.max(...members.map((a) => rankOf(a.severity)))]!,
      status: STATUS_ORDER.find((s) => statuses.has(s))!,
      incidentId: members.find((a) => a.incidentId)?.incidentId ?? null,
      firstSeenAt: new Date(Math.min(...members.map((a) => a.firstSeenAt.getTime()))),
      lastSeenAt: new Date(Math.max(...members.map((a) => a.lastSeenAt.getTime()))),
    };
  });
  return cases.sort((a, b) => b.firstSeenAt.getTime() - a.firstSeenAt.getTime() || b.id.localeCompare(a.id));
}
