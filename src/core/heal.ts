import type { Baseline, BaselineEntry } from "./baseline.ts";
import { type BaselineKind, type EnrichedEvent, type Finding, type Settings, severityRank } from "./model.ts";

const HOUR = 3_600_000;

/**
 * The kinds whose quarantined values may heal, and the coarser levels that must already be normal for the
 * value to be consistent with the baseline: an IP (or its /24, /48) of a known ASN, region (and network type,
 * when classified); a browser
 * family on a known OS family, an OS family under a known browser family.
 */
const COARSER: Partial<Record<BaselineKind, (event: EnrichedEvent) => Array<[BaselineKind, string | null]>>> =
  {
    ip: (e) => networkLevels(e),
    subnet: (e) => networkLevels(e),
    browser: (e) => [["os", e.ua?.os ?? null]],
    os: (e) => [["browser", e.ua?.browser ?? null]],
  };

function networkLevels(e: EnrichedEvent): Array<[BaselineKind, string | null]> {
  const net = e.net;
  const levels: Array<[BaselineKind, string | null]> = [
    ["asn", net?.asn === null || net?.asn === undefined ? null : String(net.asn)],
    ["region", net?.region ?? null],
  ];
  // a network of a type the account does not use (a datacenter exit) is never consistent; unclassified says nothing
  if (net?.networkType) levels.push(["network_type", net.networkType]);
  return levels;
}

/** A value that healed into the baseline with this event: what the audit records. */
export type HealedValue = {
  kind: BaselineKind;
  value: string;
  /** every observation of the value */
  count: number;
} & (
  | {
      reason: "clean_streak";
      /** clean uses in the streak that healed it, and their first and last event time */
      events: number;
      first: number;
      last: number;
    }
  | {
      /** this event observed it without any alerting finding about it (an IP in a /24 that healed meanwhile) */
      reason: "no_longer_deviates";
    }
);

const isAbout = (f: Finding, kind: BaselineKind, value: string) =>
  f.key === value || (f.about ?? []).some(([k, v]) => k === kind && v === value);

/** Findings that put the whole environment of an event beyond healing: it contradicts the pin or is shared. */
const forbidsHealing = (f: Finding) => f.rule === "pin_violation" || f.rule.startsWith("shared_");

/**
 * Moves each quarantined value of one event along its clean streak, after the baseline has observed the
 * event (docs/adr/0003). A use is clean when every finding of the event is about the value itself and low or
 * medium, and the value is consistent with the baseline's coarser levels; anything else resets the streak.
 * A value behind a high/critical finding, a pin violation or sharing is blocked for good. A streak of
 * `settings.events` clean uses spanning `settings.hours` makes the value normal. A value that was quarantined
 * before the event (`quarantinedBefore`) and that the event's observation accepted — no alerting finding was
 * about it any more — has healed too, unless it is blocked. The values healed are returned.
 */
export function advanceHealing(
  baseline: Baseline,
  event: EnrichedEvent,
  features: ReadonlyArray<[BaselineKind, string]>,
  findings: readonly Finding[],
  settings: Settings["heal"],
  quarantinedBefore: ReadonlySet<BaselineEntry> = new Set(),
): HealedValue[] {
  const healed: HealedValue[] = [];
  const at = event.occurredAt;
  const forbidden = findings.some(forbidsHealing);
  for (const [kind, value] of features) {
    const levels = COARSER[kind];
    const entry = baseline.get(kind, value);
    if (!entry || entry.healBlocked) continue;
    if (entry.accepted) {
      if (quarantinedBefore.has(entry)) {
        entry.healedAt = at;
        healed.push({ kind, value, count: entry.count, reason: "no_longer_deviates" });
      }
      continue;
    }
    if (!levels) continue;
    // a high/critical finding about the value or one of its coarser levels (a new country's region)
    const concerned: Array<[BaselineKind, string | null]> = [[kind, value], ...levels(event)];
    const severe = findings.some(
      (f) =>
        severityRank(f.severity) >= severityRank("high") &&
        concerned.some(([k, v]) => v !== null && isAbout(f, k, v)),
    );
    if (forbidden || severe) {
      entry.healBlocked = true;
      entry.heal = { events: 0, first: null, last: null };
      continue;
    }
    const clean = findings.every((f) => (f.about ?? []).some(([k, v]) => k === kind && v === value));
    const consistent = levels(event).every(([k, v]) => baseline.has(k, v));
    if (!clean || !consistent) {
      entry.heal = { events: 0, first: null, last: null };
      continue;
    }
    const streak = extend(entry, at);
    if (streak.events >= settings.events && streak.last! - streak.first! >= settings.hours * HOUR) {
      entry.accepted = true;
      entry.healedAt = at;
      healed.push({
        kind,
        value,
        reason: "clean_streak",
        events: streak.events,
        first: streak.first!,
        last: streak.last!,
        count: entry.count,
      });
    }
  }
  return healed;
}

function extend(entry: BaselineEntry, at: number) {
  const s = entry.heal ?? { events: 0, first: null, last: null };
  entry.heal = {
    events: s.events + 1,
    first: s.first === null ? at : Math.min(s.first, at),
    last: s.last === null ? at : Math.max(s.last, at),
  };
  return entry.heal;
}
