import { describe, expect, it } from "vitest";
import {
  type DrillAccount,
  type DrillFacts,
  failedAccounts,
  subnetKinds,
  verifyDrill,
} from "../../src/core/drill-verify.ts";
import { renderText } from "../../src/core/finding-text.ts";

const NOW = Date.parse("2026-03-02T09:00:00Z");
const MINUTE = 60_000;

const account = (id: string, over: Partial<DrillAccount> = {}): DrillAccount => ({
  id,
  platform: "tiktok_shop",
  ref: `ref-${id}`,
  state: "established",
  pinned: false,
  eventCount: 40,
  ...over,
});

const facts = (over: Partial<DrillFacts> = {}): DrillFacts => ({
  now: NOW,
  shareDays: 30,
  accounts: [account("a")],
  alerts: [],
  shares: [],
  heartbeats: new Map([["a", NOW - MINUTE]]),
  incidents: [],
  ...over,
});

const check = (f: DrillFacts, name: string, id = "a") =>
  verifyDrill(f)
    .accounts.find((a) => a.accountId === id)!
    .checks.find((c) => c.check === name)!;

const words = (f: DrillFacts, name: string, names = new Map<string, { platform: string; ref: string }>()) =>
  renderText("en", check(f, name).text, names);

describe("verifyDrill", () => {
  it("passes an account whose every check holds, and fails an empty scope", () => {
    expect(verifyDrill(facts()).verdict).toBe("pass");
    const empty = verifyDrill(facts({ accounts: [] }));
    expect(empty.verdict).toBe("fail");
    expect(renderText("en", empty.summary)).toBe("no account in scope: nothing to verify");
  });

  it("accepts a pinned account that is still learning, not an unpinned one", () => {
    expect(
      check(facts({ accounts: [account("a", { state: "learning", pinned: true })] }), "baseline").ok,
    ).toBe(true);
    expect(
      check(facts({ accounts: [account("a", { state: "learning", eventCount: 3 })] }), "baseline").ok,
    ).toBe(false);
  });

  it("leaves incident-rule alerts to the incident check", () => {
    const alerts = [
      { id: "alr_1", rule: "retry_storm", accountIds: ["a"] },
      { id: "alr_2", rule: "platform_incident", accountIds: ["a"] },
    ];
    expect(check(facts({ alerts }), "open_alerts").ok).toBe(true);
    const withDevice = [...alerts, { id: "alr_3", rule: "new_device", accountIds: ["a"] }];
    expect(words(facts({ alerts: withDevice }), "open_alerts")).toBe("1 open alert: new_device (alr_3)");
  });

  it("names the first five shared values and counts the rest, peers as platform/ref", () => {
    const shares = Array.from({ length: 7 }, (_, i) => ({
      accountId: "a",
      kind: i === 0 ? "subnet/20" : "ip",
      value: `v${i}`,
      peerId: "b",
      peerGroup: i === 0 ? "east" : null,
    }));
    const text = words(facts({ shares }), "isolation", new Map([["b", { platform: "amazon", ref: "us-9" }]]));
    expect(text).toBe(
      "shared with another group in the last 30 days: subnet v0 with amazon/us-9 (group east), " +
        "IP v1 with amazon/us-9 (isolated), IP v2 with amazon/us-9 (isolated), IP v3 with amazon/us-9 (isolated), " +
        "IP v4 with amazon/us-9 (isolated), 2 more",
    );
  });

  it("counts a heartbeat exactly 15 minutes old as fresh, and one a moment older as stale", () => {
    expect(check(facts({ heartbeats: new Map([["a", NOW - 15 * MINUTE]]) }), "heartbeat").ok).toBe(true);
    const stale = facts({ heartbeats: new Map([["a", NOW - 15 * MINUTE - 1]]) });
    expect(check(stale, "heartbeat").ok).toBe(false);
    expect(check(facts({ heartbeats: new Map([["a", null]]) }), "heartbeat").ok).toBe(false);
    expect(words(facts({ heartbeats: new Map() }), "heartbeat")).toBe(
      "no environment is bound to this account, so no agent watches it",
    );
  });

  it("fails only the accounts on the incident's platform, listing only their failing checks", () => {
    const report = verifyDrill(
      facts({
        accounts: [account("a"), account("b", { platform: "amazon" })],
        heartbeats: new Map([
          ["a", NOW],
          ["b", NOW],
        ]),
        incidents: [{ id: "inc_1", platform: "amazon", title: "down", startedAt: NOW - MINUTE }],
      }),
    );
    expect(report.verdict).toBe("fail");
    expect(failedAccounts(report).map((a) => [a.accountId, a.checks.map((c) => c.check)])).toEqual([
      ["b", ["incident"]],
    ]);
  });
});

describe("subnetKinds", () => {
  it("names the index kinds of the workspace's subnet lengths, or none when subnets are not compared", () => {
    expect(subnetKinds({ sharedSubnet: { enabled: true, ipv4Prefix: 24, ipv6Prefix: 48 } })).toEqual({
      v4: "subnet",
      v6: "subnet",
    });
    expect(subnetKinds({ sharedSubnet: { enabled: true, ipv4Prefix: 20, ipv6Prefix: 48 } })).toEqual({
      v4: "subnet/20",
      v6: "subnet",
    });
    expect(subnetKinds({ sharedSubnet: { enabled: false, ipv4Prefix: 24, ipv6Prefix: 48 } })).toBeNull();
  });
});
