import { describe, expect, it } from "vitest";
import { Baseline, type BaselineKind } from "../../src/core/baseline.ts";
import type { NetInfo } from "../../src/core/enrich/types.ts";
import {
  type AccountRefs,
  accountIdsIn,
  findingText,
  renderFinding,
  renderText,
} from "../../src/core/finding-text.ts";
import { AccountHistory } from "../../src/core/history.ts";
import type { AccountState, EnrichedEvent, Finding, Settings } from "../../src/core/model.ts";
import { ACCOUNT_RULES, type HistoryPoint, type RuleContext } from "../../src/core/rules/index.ts";

const T = Date.parse("2026-06-01T12:00:00Z");
const ME = "acc_01me";
const PEER = "acc_01peer";
const NAMES: AccountRefs = new Map([
  [ME, { platform: "tiktok_shop", ref: "us-store-17" }],
  [PEER, { platform: "amazon", ref: "eu-store-3" }],
]);

const SETTINGS: Settings = {
  learningEvents: 20,
  learningHours: 24,
  maxKmh: 900,
  shareDays: 30,
  retryLimit: 5,
  alertMinSeverity: "low",
  sensitiveOperations: ["password_change"],
  heal: { events: 20, hours: 72 },
  sharedSubnet: { enabled: true, ipv4Prefix: 24, ipv6Prefix: 48 },
  incident: { windowMinutes: 10, quorum: 0.3, minAccounts: 3, minNetworks: 2, holdMinutes: 15 },
};

const TOKYO: NetInfo = {
  ip: "203.0.113.7",
  version: 4,
  ipClass: "public",
  subnet: "203.0.113.0/24",
  asn: 64500,
  asnOrg: "Example Net",
  networkType: "residential",
  networkTypeSource: "default",
  country: "JP",
  region: "JP-13",
  city: "Tokyo",
  timezone: "Asia/Tokyo",
  lat: 35.68,
  lon: 139.69,
  accuracyKm: 5,
};

/** What the account was normal with: a Los Angeles office on one network, one device, Chrome on Windows. */
const USUAL: Array<[BaselineKind, string]> = [
  ["ip", "198.51.100.1"],
  ["ip", "198.51.100.2"],
  ["subnet", "198.51.100.0/24"],
  ["asn", "64501"],
  ["country", "US"],
  ["region", "US-CA"],
  ["network_type", "residential"],
  ["device", "dev-office"],
  ["browser", "Chrome"],
  ["os", "Windows"],
  ["timezone", "America/Los_Angeles"],
  ["locale", "en-US"],
];

function point(id: string, at: number, over: Partial<HistoryPoint> = {}): HistoryPoint {
  return {
    id,
    occurredAt: at,
    ip: "198.51.100.1",
    login: true,
    failed: true,
    asn: 64501,
    lat: 34.05,
    lon: -118.24,
    accuracyKm: 5,
    country: "US",
    region: "US-CA",
    city: "Los Angeles",
    ...over,
  };
}

interface Scenario {
  net?: NetInfo;
  baseline?: Array<[BaselineKind, string]>;
  account?: Partial<AccountState>;
  event?: Partial<EnrichedEvent>;
  context?: Partial<RuleContext>;
}

/** A logged-in event from Tokyo on a new device, judged against the Los Angeles baseline unless told otherwise. */
function context(s: Scenario = {}): RuleContext {
  const baseline = new Baseline();
  for (const [kind, value] of s.baseline ?? USUAL)
    baseline.load(kind, value, {
      count: 5,
      firstSeen: T - 86_400_000,
      lastSeen: T - 3_600_000,
      accepted: true,
    });
  const event: EnrichedEvent = {
    id: "ev-1",
    type: "login",
    occurredAt: T,
    operator: "li.wei",
    operation: null,
    result: { status: "error", code: "auth_failed", httpStatus: 401, message: null },
    net: s.net ?? TOKYO,
    ua: { browser: "Firefox", browserVersion: "128", os: "Linux", osVersion: null, deviceType: "desktop" },
    userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    deviceId: "dev-laptop",
    timezone: "America/New_York",
    locale: "zh-CN",
    profile: "adspower-17",
    attributes: null,
    ...s.event,
  };
  return {
    event,
    account: {
      id: ME,
      platform: "tiktok_shop",
      ref: "us-store-17",
      group: "us",
      pin: null,
      learning: false,
      ...s.account,
    },
    baseline,
    history: new AccountHistory(),
    environmentId: null,
    bound: null,
    shared: [],
    incident: null,
    settings: SETTINGS,
    ...s.context,
  };
}

const INCIDENT = {
  id: "inc_01",
  platform: "tiktok_shop",
  region: null,
  source: "declared" as const,
  startedAt: T - 600_000,
  endedAt: null,
  title: "TikTok Shop seller center 502",
};

const peer = (kind: "device" | "ip" | "subnet", value: string, group: string | null) => ({
  kind,
  value,
  firstSeen: T,
  peers: [
    {
      accountId: PEER,
      group,
      kind,
      value,
      firstSeen: T - 86_400_000,
      lastSeen: T - 60_000,
      lastEventId: "ev-peer",
    },
  ],
});

/** One scenario per sentence a rule can say; every rule of the index must appear. */
const SCENARIOS: Array<[string, string, Scenario]> = [
  ["new_ip", "new_ip", {}],
  [
    "new_ip inside a known subnet and network",
    "new_ip",
    {
      net: {
        ...TOKYO,
        ip: "198.51.100.9",
        subnet: "198.51.100.0/24",
        asn: 64501,
        country: "US",
        region: "US-CA",
      },
    },
  ],
  ["new_network", "new_network", {}],
  ["new_country", "new_country", {}],
  [
    "datacenter_network",
    "datacenter_network",
    {
      net: {
        ...TOKYO,
        asn: 14061,
        asnOrg: "DigitalOcean, LLC",
        networkType: "hosting",
        networkTypeSource: "list",
      },
    },
  ],
  ["new_region", "new_region", { net: { ...TOKYO, country: "US", region: "US-NY", city: "New York" } }],
  ["new_device", "new_device", {}],
  ["new_device without a profile", "new_device", { event: { profile: null } }],
  ["ua_changed (browser and OS)", "ua_changed", {}],
  ["locale_changed", "locale_changed", {}],
  ["timezone_mismatch (IP and baseline)", "timezone_mismatch", {}],
  [
    "impossible_travel",
    "impossible_travel",
    { context: { history: new AccountHistory([point("ev-0", T - 3_600_000, { failed: false })]) } },
  ],
  [
    "impossible_travel at the same instant",
    "impossible_travel",
    { context: { history: new AccountHistory([point("ev-0", T)]) } },
  ],
  [
    "env_hopping",
    "env_hopping",
    {
      context: {
        history: new AccountHistory([
          point("ev-a", T - 600_000),
          point("ev-b", T - 300_000, { ip: "192.0.2.4", asn: 64502 }),
        ]),
      },
    },
  ],
  [
    "pin_violation on every dimension",
    "pin_violation",
    {
      account: {
        pin: {
          cidrs: ["198.51.100.0/24"],
          asns: [64501],
          countries: ["US"],
          regions: ["US-CA"],
          timezones: ["America/Los_Angeles"],
          locales: ["en-US"],
          device_ids: ["dev-office"],
          network_types: ["mobile"],
        },
      },
    },
  ],
  [
    "pin_violation on values that cannot be known",
    "pin_violation",
    {
      net: {
        ...TOKYO,
        ipClass: "private",
        ip: "10.0.0.5",
        asn: null,
        networkType: null,
        networkTypeSource: null,
        country: null,
        region: null,
      },
      event: { timezone: null },
      account: {
        pin: {
          asns: [64501],
          countries: ["US"],
          regions: ["US-CA"],
          timezones: ["America/Los_Angeles"],
          network_types: ["residential"],
        },
      },
    },
  ],
  [
    "pin_violation without an IP",
    "pin_violation",
    { event: { net: null }, account: { pin: { cidrs: ["198.51.100.0/24"] } } },
  ],
  ["unbound_environment", "unbound_environment", { context: { environmentId: "env_01desk", bound: false } }],
  ["shared_device", "shared_device", { context: { shared: [peer("device", "dev-laptop", "eu")] } }],
  ["shared_ip", "shared_ip", { context: { shared: [peer("ip", "203.0.113.7", null)] } }],
  ["shared_subnet", "shared_subnet", { context: { shared: [peer("subnet", "203.0.113.0/24", "eu")] } }],
  ["incident_network_switch", "incident_network_switch", { context: { incident: INCIDENT } }],
  [
    "retry_storm",
    "retry_storm",
    { context: { history: new AccountHistory([1, 2, 3, 4].map((i) => point(`ev-r${i}`, T - i * 60_000))) } },
  ],
  [
    "retry_storm during an incident",
    "retry_storm",
    {
      context: {
        incident: INCIDENT,
        history: new AccountHistory([1, 2, 3, 4].map((i) => point(`ev-r${i}`, T - i * 60_000))),
      },
    },
  ],
  [
    "sensitive_op_during_incident",
    "sensitive_op_during_incident",
    { event: { type: "operation", operation: "password_change" }, context: { incident: INCIDENT } },
  ],
];

function run(ruleId: string, s: Scenario): Finding[] {
  const rule = ACCOUNT_RULES.find((r) => r.id === ruleId);
  if (!rule) throw new Error(`no rule ${ruleId}`);
  return rule.evaluate(context(s));
}

describe("finding sentences", () => {
  it("covers every rule of the index", () => {
    expect(new Set(SCENARIOS.map(([, rule]) => rule))).toEqual(new Set(ACCOUNT_RULES.map((r) => r.id)));
  });

  it.each(SCENARIOS)("%s: a sentence in both languages, from the evidence alone", (_name, ruleId, s) => {
    const findings = run(ruleId, s);
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) {
      const text = findingText(f.rule, f.evidence);
      expect(text, JSON.stringify(f.evidence)).not.toBeNull();
      expect(text).toEqual(f.text);
      expect(f.message).toBe(renderText("en", text!));
      const en = renderText("en", text!, NAMES);
      const zh = renderText("zh-CN", text!, NAMES);
      for (const sentence of [en, zh]) {
        expect(sentence).not.toMatch(/\{\w+\}/);
        expect(sentence).not.toMatch(/acc_/);
        expect(sentence).not.toContain("undefined");
        expect(sentence).not.toContain("null");
      }
      expect(zh).not.toBe(en);
      expect(zh).toMatch(/[\u4e00-\u9fff]/);
      expect(en).not.toMatch(/[\u4e00-\u9fff]/);
    }
  });

  it("says what was seen and what the baseline expected", () => {
    const [ip] = run("new_ip", {});
    expect(renderText("en", ip!.text)).toBe(
      "New IP 203.0.113.7 (AS64500 Example Net, Tokyo, JP-13): not among the addresses this account has used (2)",
    );
    expect(renderText("zh-CN", ip!.text)).toBe(
      "新 IP 203.0.113.7 (AS64500 Example Net, Tokyo, JP-13)：不在该账号用过的 2 个地址之中",
    );
    const [country] = run("new_country", {});
    expect(renderText("zh-CN", country!.text)).toContain("该账号以往所在国家/地区：US");
    const [pin] = run("pin_violation", {
      account: { pin: { countries: ["US", "CA"] } },
    });
    expect(renderText("en", pin!.text)).toBe("Country JP is not one of the pinned countries (US, CA)");
    expect(renderText("zh-CN", pin!.text)).toBe("国家/地区 JP 不在固定的国家/地区之中（US、CA）");
  });

  it("names the other account of a sharing finding by platform/ref, and a deleted one as deleted", () => {
    const [f] = run("shared_device", { context: { shared: [peer("device", "dev-laptop", null)] } });
    expect(accountIdsIn(f!.text).sort()).toEqual([ME, PEER].sort());
    // The stored message keeps ids, so erasing an account can replace them with its tombstone.
    expect(f!.message).toContain(PEER);
    expect(renderText("en", f!.text, NAMES)).toBe(
      "Device dev-laptop is also used by amazon/eu-store-3 (no group), which must stay isolated from tiktok_shop/us-store-17 (group us)",
    );
    expect(renderText("zh-CN", f!.text, NAMES)).toBe(
      "设备 dev-laptop 也被 amazon/eu-store-3（未分组）使用，它必须与 tiktok_shop/us-store-17（分组 us）保持隔离",
    );
    const erased = JSON.parse(JSON.stringify(f!.evidence).replaceAll(PEER, "del_01gone"));
    expect(renderFinding("en", NAMES, f!.rule, erased, f!.message)).toContain("used by a deleted account");
  });

  it("renders the stored text, ids swapped, for a rule or evidence that has no sentence", () => {
    const stored = `platform incident detected; ${ME} affected`;
    expect(findingText("platform_incident", {})).toBeNull();
    expect(renderFinding("zh-CN", NAMES, "platform_incident", {}, stored)).toBe(
      "platform incident detected; tiktok_shop/us-store-17 affected",
    );
    // An alert stored before incident titles were in the evidence.
    expect(findingText("sensitive_op_during_incident", { operation: "password_change" })).toBeNull();
  });
});
