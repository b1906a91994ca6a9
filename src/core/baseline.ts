import type { BaselineKind, EnrichedEvent } from "./model.ts";

export { BASELINE_KINDS, type BaselineKind } from "./model.ts";

export interface BaselineEntry {
  count: number;
  firstSeen: number;
  lastSeen: number;
  accepted: boolean;
  /** a quarantined value's clean streak: uses without any other deviation, and their span (docs/adr/0003) */
  heal?: HealStreak;
  /** behind a high/critical finding, a pin violation or sharing: never heals by itself */
  healBlocked?: boolean;
  /** when (event time) the value healed into the baseline by itself */
  healedAt?: number | null;
}

export interface HealStreak {
  events: number;
  first: number | null;
  last: number | null;
}

/** The feature values one event contributes to its account's baseline (and to the workspace's counts). */
export function featuresOf(event: EnrichedEvent): Array<[BaselineKind, string]> {
  const out: Array<[BaselineKind, string]> = [];
  const net = event.net;
  if (net && net.ipClass === "public") {
    out.push(["ip", net.ip], ["subnet", net.subnet]);
    if (net.asn !== null) out.push(["asn", String(net.asn)]);
    if (net.country) out.push(["country", net.country]);
    if (net.region) out.push(["region", net.region]);
    if (net.networkType) out.push(["network_type", net.networkType]);
  }
  if (event.deviceId) out.push(["device", event.deviceId]);
  if (event.userAgent) out.push(["ua", event.userAgent]);
  if (event.ua?.browser) out.push(["browser", event.ua.browser]);
  if (event.ua?.os) out.push(["os", event.ua.os]);
  if (event.timezone) out.push(["timezone", event.timezone]);
  if (event.locale) out.push(["locale", event.locale]);
  return out;
}

/** What is normal for one account: per kind, every value seen with its count and first/last seen. */
export class Baseline {
  private readonly values = new Map<BaselineKind, Map<string, BaselineEntry>>();
  private readonly totals = new Map<BaselineKind, number>();

  get(kind: BaselineKind, value: string): BaselineEntry | undefined {
    return this.values.get(kind)?.get(value);
  }

  /** Whether the value is normal for the account; a value that raised an alert is seen but not normal. */
  has(kind: BaselineKind, value: string | number | null | undefined): boolean {
    return (
      value !== null && value !== undefined && this.values.get(kind)?.get(String(value))?.accepted === true
    );
  }

  count(kind: BaselineKind, value: string | number | null | undefined): number {
    return value === null || value === undefined
      ? 0
      : (this.values.get(kind)?.get(String(value))?.count ?? 0);
  }

  /** Observations of a kind; 0 means the account never showed this feature, so nothing can deviate from it. */
  total(kind: BaselineKind): number {
    return this.totals.get(kind) ?? 0;
  }

  entries(kind: BaselineKind): ReadonlyMap<string, BaselineEntry> {
    return this.values.get(kind) ?? new Map();
  }

  load(kind: BaselineKind, value: string, entry: BaselineEntry): void {
    let byValue = this.values.get(kind);
    if (!byValue) {
      byValue = new Map();
      this.values.set(kind, byValue);
    }
    byValue.set(value, entry);
    this.totals.set(kind, this.total(kind) + entry.count);
  }

  observe(kind: BaselineKind, value: string, at: number, accepted: boolean): void {
    const existing = this.get(kind, value);
    if (existing) {
      existing.count += 1;
      existing.firstSeen = Math.min(existing.firstSeen, at);
      existing.lastSeen = Math.max(existing.lastSeen, at);
      existing.accepted ||= accepted;
      this.totals.set(kind, this.total(kind) + 1);
    } else {
      this.load(kind, value, { count: 1, firstSeen: at, lastSeen: at, accepted });
    }
  }
}
