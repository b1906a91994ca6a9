import { describe, expect, it } from "vitest";
import { Baseline, featuresOf } from "../../src/core/baseline.ts";
import type { NetInfo } from "../../src/core/enrich/types.ts";
import { advanceHealing } from "../../src/core/heal.ts";
import type { EnrichedEvent, Finding, Severity } from "../../src/core/model.ts";

const HOUR = 3_600_000;
const SETTINGS = { events: 3, hours: 10 };
const T0 = Date.parse("2026-03-01T00:00:00Z");

function at(hour: number, net: Partial<NetInfo> = {}): EnrichedEvent {
  return {
    id: `ev-${hour}`,
    type: "login",
    occurredAt: T0 + hour * HOUR,
    operator: null,
    operation: null,
    result: { status: "ok", code: null, httpStatus: null, message: null },
    net: {
      ip: "76.102.5.5",
      version: 4,
      ipClass: "public",
      subnet: "76.102.5.0/24",
      asn: 7922,
      asnOrg: "Comcast",
      networkType: "residential",
      networkTypeSource: null,
      country: "US",
      region: "US-CA",
      city: null,
      timezone: "America/Los_Angeles",
      lat: null,
      lon: null,
      accuracyKm: null,
      ...net,
    },
    ua: null,
    userAgent: null,
    deviceId: null,
    timezone: null,
    locale: null,
    profile: null,
    attributes: null,
  };
}

const finding = (rule: string, severity: Severity, about: Finding["about"] = []): Finding => ({
  rule,
  severity,
  message: rule,
  text: { key: `finding.${rule}`, params: {} } as Finding["text"],
  key: "",
  accountIds: ["a"],
  evidence: {},
  about,
});
const newIp = (e: EnrichedEvent) =>
  finding("new_ip", "medium", [
    ["ip", e.net!.ip],
    ["subnet", e.net!.subnet],
  ]);

/** A baseline that knows the home network (AS7922, US-CA) and observes each event as ingest would. */
function account() {
  const baseline = new Baseline();
  for (const [kind, value] of [
    ["asn", "7922"],
    ["region", "US-CA"],
    ["country", "US"],
    ["ip", "73.15.20.1"],
    ["network_type", "residential"],
  ] as const)
    baseline.observe(kind, value, T0 - 100 * HOUR, true);
  const use = (e: EnrichedEvent, findings: Finding[]) => {
    const features = featuresOf(e);
    const quarantined = new Set(findings.flatMap((f) => (f.about ?? []).map(([k, v]) => `${k}=${v}`)));
    for (const [k, v] of features) baseline.observe(k, v, e.occurredAt, !quarantined.has(`${k}=${v}`));
    return advanceHealing(baseline, e, features, findings, SETTINGS).map((h) => `${h.kind}=${h.value}`);
  };
  return { baseline, use };
}

describe("advanceHealing", () => {
  it("heals an IP of a known ASN and region after enough clean uses spanning enough hours", () => {
    const { baseline, use } = account();
    expect(use(at(0), [newIp(at(0))])).toEqual([]);
    expect(use(at(5), [newIp(at(5))])).toEqual([]);
    expect(use(at(9), [newIp(at(9))])).toEqual([]); // three uses, nine hours
    expect(baseline.has("ip", "76.102.5.5")).toBe(false);
    expect(use(at(10), [newIp(at(10))]).sort()).toEqual(["ip=76.102.5.5", "subnet=76.102.5.0/24"]);
    expect(baseline.get("ip", "76.102.5.5")).toMatchObject({ accepted: true, healedAt: T0 + 10 * HOUR });
  });

  it("counts a late event into the span", () => {
    const { use } = account();
    use(at(5), [newIp(at(5))]);
    use(at(15), [newIp(at(15))]);
    expect(use(at(0), [newIp(at(0))])).toContain("ip=76.102.5.5");
  });

  it("restarts the streak on another finding and a use whose region cannot be told; a datacenter exit blocks it", () => {
    const { baseline, use } = account();
    use(at(0), [newIp(at(0))]);
    use(at(5), [newIp(at(5)), finding("locale_changed", "low", [["locale", "en-GB"]])]);
    expect(baseline.get("ip", "76.102.5.5")!.heal).toEqual({ events: 0, first: null, last: null });
    use(at(6), [newIp(at(6))]);
    const elsewhere = at(7, { region: null });
    use(elsewhere, [newIp(elsewhere)]);
    expect(baseline.get("ip", "76.102.5.5")!.heal!.events).toBe(0);
    use(at(8), [newIp(at(8))]);
    const datacenter = at(9, { networkType: "hosting" });
    use(datacenter, [
      newIp(datacenter),
      finding("datacenter_network", "high", [["network_type", "hosting"]]),
    ]);
    expect(baseline.get("ip", "76.102.5.5")).toMatchObject({ healBlocked: true, heal: { events: 0 } });
  });

  it("blocks a value behind a high finding, a pin violation or sharing for good", () => {
    for (const other of [
      finding("new_country", "high", [["region", "US-CA"]]),
      finding("pin_violation", "high"),
      finding("shared_subnet", "medium"),
    ]) {
      const { baseline, use } = account();
      use(at(0), [newIp(at(0)), other]);
      for (const h of [5, 10, 15, 20]) expect(use(at(h), [newIp(at(h))])).toEqual([]);
      expect(baseline.get("ip", "76.102.5.5")).toMatchObject({ accepted: false, healBlocked: true });
    }
  });

  it("never heals kinds without a coarser level to agree with (an ASN, a device)", () => {
    const { baseline, use } = account();
    for (const h of [0, 5, 10, 15]) {
      const e = { ...at(h, { asn: 22773 }), deviceId: "d-new" };
      use(e, [finding("new_network", "medium", [["asn", "22773"]])]);
    }
    expect(baseline.has("asn", "22773")).toBe(false);
  });
});
