import { describe, expect, it } from "vitest";
import type { BaselineKind } from "../../src/core/baseline.ts";
import {
  type Counts,
  eventRisk,
  explainRisk,
  HIERARCHIES,
  hierarchyLogRatio,
  logRatioToRisk,
  MAX_EVIDENCE,
  PATH_SEP,
  populationPaths,
  riskFactors,
  SEVERITY_FLOOR,
  statisticalLogRatio,
  TAU,
} from "../../src/core/risk.ts";

// Expected values below are written out from the formulas in docs/risk-score.md, with the constants
// ALPHA = 1, MAX_EVIDENCE = 200, TAU = 8 and VOCABULARY country 250, asn 100, ip 1000, ua 100,
// browser 20, os 20, device 1000, timezone 400 spelled as numbers:
//   q(v)   = (c_W(v) + 1) / (c_W(parent) + V)          (N_W instead of c_W(parent) at the top level)
//   p_A(v) = (c_A(v) + ALPHA · p_A(parent) · q(v)) / (n_A + ALPHA)     (p_A(parent) = 1 at the top)
//   p_W(v) = product of q along the path;  log ratio = ln(p_W / p_A) at the finest level.
// When n_A > MAX_EVIDENCE, c_A and n_A are both multiplied by MAX_EVIDENCE / n_A.

type Table = Partial<Record<BaselineKind, Record<string, number>>>;
const p = (...levels: string[]) => levels.join(PATH_SEP);

/**
 * Counts from plain maps: workspace counts keyed by their path from the hierarchy's root (`p("US", "7922")`),
 * with explicit per-kind totals; account totals summed from its values.
 */
function countsFrom(
  workspace: Table,
  workspaceTotals: Partial<Record<BaselineKind, number>>,
  account: Table,
): Counts {
  return {
    account: (kind, value) => account[kind]?.[value] ?? 0,
    accountTotal: (kind) => Object.values(account[kind] ?? {}).reduce((sum, n) => sum + n, 0),
    workspace: (kind, value) => workspace[kind]?.[value] ?? 0,
    workspaceTotal: (kind) => workspaceTotals[kind] ?? 0,
  };
}

/** A workspace of 100 public-IP events: US 90 (AS7922 60, AS7018 30), DE 10 (AS3320 10). */
const ipWorkspace: Table = {
  country: { US: 90, DE: 10 },
  asn: { [p("US", "7922")]: 60, [p("US", "7018")]: 30, [p("DE", "3320")]: 10 },
  // the same 30 events of IP x, also counted under US alone for events whose ASN was unknown
  ip: { [p("US", "7922", "x")]: 30, [p("US", "7018", "w")]: 2, [p("US", "x")]: 30 },
};
const ipTotals = { country: 100, asn: 100, ip: 100 };
/** An account whose 20 events all came from IP x in AS7922, US. */
const homeAccount: Table = { country: { US: 20 }, asn: { "7922": 20 }, ip: { x: 20 } };

const path = (ip: string, asn: string, country: string): Array<[BaselineKind, string]> => [
  ["ip", ip],
  ["asn", asn],
  ["country", country],
];

// The home path US → AS7922 for the account above, shared by the IP cases.
const qUS = (90 + 1) / (100 + 250); // 0.26
const pAccUS = (20 + 1 * 1 * qUS) / (20 + 1); // 0.96476
const qAS7922 = (60 + 1) / (90 + 100); // 0.32105
const pAccAS7922 = (20 + 1 * pAccUS * qAS7922) / (20 + 1); // 0.96713

describe("a new account", () => {
  it("scores its first event 0 in every hierarchy, whatever the workspace has seen", () => {
    const features: Partial<Record<BaselineKind, string>> = {
      ip: "x",
      asn: "7922",
      country: "US",
      ua: "Mozilla/5.0 (X11; Linux x86_64) Chrome/126",
      browser: "Chrome",
      os: "Linux",
      device: "d1",
      timezone: "America/New_York",
      locale: "en-US",
    };
    const busy = countsFrom(
      {
        ...ipWorkspace,
        browser: { Chrome: 40 },
        os: { Linux: 5 },
        device: { d1: 3 },
        locale: { "en-US": 80 },
      },
      { ...ipTotals, ua: 100, browser: 100, os: 100, device: 100, timezone: 100, locale: 100 },
      {},
    );
    const empty = countsFrom({}, {}, {});
    for (const counts of [busy, empty]) {
      for (const hierarchy of HIERARCHIES) {
        const levels = hierarchy.map((kind): [BaselineKind, string] => [kind, features[kind]!]);
        expect(hierarchyLogRatio(levels, counts)).toBe(0);
      }
      expect(statisticalLogRatio(features, counts)).toBe(0);
      expect(eventRisk(statisticalLogRatio(features, counts), [])).toBe(0);
    }
  });
});

describe("a flat feature (device)", () => {
  const account: Table = { device: { mine: 20 } };

  it("costs ln((N + ALPHA) / ALPHA) when unseen by the account, however popular the value is", () => {
    const counts = countsFrom({ device: { rare: 0, popular: 300, mine: 20 } }, { device: 500 }, account);

    const qRare = (0 + 1) / (500 + 1000);
    const pAccRare = (0 + 1 * 1 * qRare) / (20 + 1);
    const qPopular = (300 + 1) / (500 + 1000);
    const pAccPopular = (0 + 1 * 1 * qPopular) / (20 + 1);

    expect(hierarchyLogRatio([["device", "rare"]], counts)).toBeCloseTo(Math.log(qRare / pAccRare), 10);
    expect(hierarchyLogRatio([["device", "popular"]], counts)).toBeCloseTo(
      Math.log(qPopular / pAccPopular),
      10,
    );
    expect(hierarchyLogRatio([["device", "rare"]], counts)).toBeCloseTo(Math.log((20 + 1) / 1), 10); // 3.0445
    expect(hierarchyLogRatio([["device", "popular"]], counts)).toBeCloseTo(Math.log((20 + 1) / 1), 10);
  });

  it("scores a value the account has used below any value it has not", () => {
    const counts = countsFrom({ device: { once: 400 } }, { device: 500 }, { device: { mine: 19, once: 1 } });
    const qOnce = (400 + 1) / (500 + 1000);
    const pAccOnce = (1 + 1 * 1 * qOnce) / (20 + 1);
    const expected = Math.log(qOnce / pAccOnce); // ln(0.26733 / 0.06035) = 1.488

    expect(hierarchyLogRatio([["device", "once"]], counts)).toBeCloseTo(expected, 10);
    expect(expected).toBeLessThan(hierarchyLogRatio([["device", "never"]], counts));
  });
});

describe("the IP → ASN → country hierarchy", () => {
  const counts = countsFrom(ipWorkspace, ipTotals, homeAccount);

  const qX = (30 + 1) / (60 + 1000);
  const pAccX = (20 + 1 * pAccAS7922 * qX) / (20 + 1);
  const sameIp = Math.log((qUS * qAS7922 * qX) / pAccX); // −5.968

  const qY = (0 + 1) / (60 + 1000);
  const pAccY = (0 + 1 * pAccAS7922 * qY) / (20 + 1);
  const newIp = Math.log((qUS * qAS7922 * qY) / pAccY); // 0.595

  const qAS7018 = (30 + 1) / (90 + 100);
  const pAccAS7018 = (0 + 1 * pAccUS * qAS7018) / (20 + 1);
  const qW = (2 + 1) / (30 + 1000);
  const pAccW = (0 + 1 * pAccAS7018 * qW) / (20 + 1);
  const newAsn = Math.log((qUS * qAS7018 * qW) / pAccW); // 4.778

  const qDE = (10 + 1) / (100 + 250);
  const pAccDE = (0 + 1 * 1 * qDE) / (20 + 1);
  const qAS3320 = (10 + 1) / (10 + 100);
  const pAccAS3320 = (0 + 1 * pAccDE * qAS3320) / (20 + 1);
  const qZ = (0 + 1) / (10 + 1000);
  const pAccZ = (0 + 1 * pAccAS3320 * qZ) / (20 + 1);
  const newCountry = Math.log((qDE * qAS3320 * qZ) / pAccZ); // 9.134

  it("scores the account's own IP below zero, so risk 0", () => {
    const s = hierarchyLogRatio(path("x", "7922", "US"), counts);
    expect(s).toBeCloseTo(sameIp, 10);
    expect(s).toBeCloseTo(-5.968, 3);
    expect(logRatioToRisk(s)).toBe(0);
  });

  it("scores a new IP in the account's ASN slightly positive", () => {
    const s = hierarchyLogRatio(path("y", "7922", "US"), counts);
    expect(s).toBeCloseTo(newIp, 10);
    expect(s).toBeCloseTo(0.595, 3);
    expect(logRatioToRisk(s)).toBe(7);
  });

  it("scores a new ASN in the account's country higher", () => {
    const s = hierarchyLogRatio(path("w", "7018", "US"), counts);
    expect(s).toBeCloseTo(newAsn, 10);
    expect(s).toBeCloseTo(4.778, 3);
    expect(logRatioToRisk(s)).toBe(45);
  });

  it("scores a new country highest: ln((N + ALPHA) / ALPHA) for each unseen level", () => {
    const s = hierarchyLogRatio(path("z", "3320", "DE"), counts);
    expect(s).toBeCloseTo(newCountry, 10);
    expect(s).toBeCloseTo(3 * Math.log((20 + 1) / 1), 10); // 9.134
    expect(logRatioToRisk(s)).toBe(68);
  });

  it("orders same IP < new IP < new ASN < new country", () => {
    const scores = [
      path("x", "7922", "US"),
      path("y", "7922", "US"),
      path("w", "7018", "US"),
      path("z", "3320", "DE"),
    ].map((levels) => hierarchyLogRatio(levels, counts));
    expect(scores[0]!).toBeLessThan(scores[1]!);
    expect(scores[1]!).toBeLessThan(scores[2]!);
    expect(scores[2]!).toBeLessThan(scores[3]!);
  });

  it("hangs the IP directly under the country when the ASN is unknown, with finite scores", () => {
    const qXUnderUS = (30 + 1) / (90 + 1000);
    const pAccXUnderUS = (20 + 1 * pAccUS * qXUnderUS) / (20 + 1);
    const qVUnderUS = (0 + 1) / (90 + 1000);
    const pAccVUnderUS = (0 + 1 * pAccUS * qVUnderUS) / (20 + 1);

    const familiar = hierarchyLogRatio(
      [
        ["ip", "x"],
        ["country", "US"],
      ],
      counts,
    );
    const unseen = hierarchyLogRatio(
      [
        ["ip", "v"],
        ["country", "US"],
      ],
      counts,
    );
    expect(familiar).toBeCloseTo(Math.log((qUS * qXUnderUS) / pAccXUnderUS), 10); // −4.86
    expect(unseen).toBeCloseTo(Math.log((qUS * qVUnderUS) / pAccVUnderUS), 10); // 1.733
    expect(Number.isFinite(unseen)).toBe(true);
    expect(unseen).toBeGreaterThan(newIp);
    expect(unseen).toBeLessThan(newAsn);
  });

  it("stays finite when neither the workspace nor the account has any count at a level", () => {
    const bare = countsFrom({}, {}, { ip: { x: 5 } });
    // country and asn: n_A = 0, so p_A = p_W there; ip: unseen by 5 observations → ln(6).
    expect(hierarchyLogRatio(path("y", "1", "FR"), bare)).toBeCloseTo(Math.log((5 + 1) / 1), 10);
  });
});

describe("evidence saturation", () => {
  it("treats N > MAX_EVIDENCE observations like MAX_EVIDENCE in the same proportions", () => {
    const workspace: Table = { device: { d1: 50 } };
    const big = countsFrom(workspace, { device: 500 }, { device: { d1: 300, d2: 100 } });
    const capped = countsFrom(workspace, { device: 500 }, { device: { d1: 150, d2: 50 } });

    const q = (50 + 1) / (500 + 1000);
    const pAcc = (300 * (200 / 400) + 1 * 1 * q) / (400 * (200 / 400) + 1); // (150 + q) / 201
    const expected = Math.log(q / pAcc); // −3.089

    expect(MAX_EVIDENCE).toBe(200);
    expect(hierarchyLogRatio([["device", "d1"]], big)).toBeCloseTo(expected, 10);
    expect(hierarchyLogRatio([["device", "d1"]], capped)).toBeCloseTo(expected, 10);
  });

  it("caps the cost of an unseen value at ln((MAX_EVIDENCE + ALPHA) / ALPHA)", () => {
    const counts = countsFrom({}, { device: 2000 }, { device: { d1: 1000 } });
    expect(hierarchyLogRatio([["device", "new"]], counts)).toBeCloseTo(Math.log((200 + 1) / 1), 10); // 5.303
  });

  it("saturates every level of a hierarchy", () => {
    const big = countsFrom(ipWorkspace, ipTotals, {
      country: { US: 400 },
      asn: { "7922": 400 },
      ip: { x: 400 },
    });
    const qY = (0 + 1) / (60 + 1000);
    const pAccUS200 = (200 + 1 * 1 * qUS) / (200 + 1);
    const pAccAS7922_200 = (200 + 1 * pAccUS200 * qAS7922) / (200 + 1);
    const pAccY = (0 + 1 * pAccAS7922_200 * qY) / (200 + 1);
    // ln(201 · 0.26 · 0.32105 / 0.99662) = 2.823
    expect(hierarchyLogRatio(path("y", "7922", "US"), big)).toBeCloseTo(
      Math.log((qUS * qAS7922 * qY) / pAccY),
      10,
    );
  });
});

describe("logRatioToRisk", () => {
  it("is 0 for S ≤ 0", () => {
    for (const s of [0, -0.001, -1, -100]) expect(logRatioToRisk(s)).toBe(0);
  });

  it("is round(100 · (1 − e^(−S/TAU)))", () => {
    expect(TAU).toBe(8);
    expect(logRatioToRisk(1)).toBe(Math.round(100 * (1 - Math.exp(-1 / 8)))); // 11.75
    expect(logRatioToRisk(1)).toBe(12);
    expect(logRatioToRisk(4)).toBe(39); // 100 · (1 − e^−0.5) = 39.35
    expect(logRatioToRisk(8)).toBe(63); // 100 · (1 − e^−1) = 63.21
    expect(logRatioToRisk(16)).toBe(86); // 100 · (1 − e^−2) = 86.47
  });

  it("never decreases as S grows", () => {
    let previous = 0;
    for (let s = 0; s <= 60; s += 0.25) {
      const risk = logRatioToRisk(s);
      expect(risk).toBeGreaterThanOrEqual(previous);
      previous = risk;
    }
    expect(logRatioToRisk(2)).toBeGreaterThan(logRatioToRisk(1));
    expect(logRatioToRisk(24)).toBeGreaterThan(logRatioToRisk(16));
  });

  it("stays below 100 until S reaches TAU · ln 200 ≈ 42.39, where rounding gives 100", () => {
    expect(logRatioToRisk(40)).toBe(99); // 99.33
    expect(logRatioToRisk(42.38)).toBe(99); // 99.4997
    expect(logRatioToRisk(42.4)).toBe(100); // 99.5008
  });
});

describe("eventRisk", () => {
  it("applies the floor of the most severe finding", () => {
    expect(SEVERITY_FLOOR).toEqual({ info: 0, low: 15, medium: 40, high: 70, critical: 90 });
    expect(eventRisk(0, [{ severity: "high" }])).toBe(70);
    expect(eventRisk(-5, [{ severity: "low" }, { severity: "critical" }, { severity: "medium" }])).toBe(90);
    expect(eventRisk(1, [{ severity: "info" }])).toBe(12);
  });

  it("keeps the statistical risk when it is above the floor", () => {
    expect(eventRisk(16, [{ severity: "medium" }])).toBe(86);
    expect(eventRisk(16, [{ severity: "critical" }])).toBe(90);
    expect(eventRisk(-5, [])).toBe(0);
  });
});

describe("statisticalLogRatio", () => {
  const counts = countsFrom(
    { ...ipWorkspace, device: { d9: 40 }, timezone: { "America/New_York": 70 } },
    { ...ipTotals, device: 100, timezone: 100 },
    {
      ...homeAccount,
      device: { d1: 20 },
      timezone: { "America/New_York": 20 },
      ua: { u1: 20 },
      browser: { Chrome: 20 },
      os: { Linux: 20 },
      locale: { "en-US": 20 },
    },
  );

  it("sums the hierarchies and skips features the event does not carry", () => {
    // IP: new IP in AS7922 (0.595); device: unseen by 20 observations (ln 21); timezone: the usual one.
    const qY = (0 + 1) / (60 + 1000);
    const pAccY = (0 + 1 * pAccAS7922 * qY) / (20 + 1);
    const ip = Math.log((qUS * qAS7922 * qY) / pAccY);
    const device = Math.log((20 + 1) / 1);
    const qTz = (70 + 1) / (100 + 400);
    const pAccTz = (20 + 1 * 1 * qTz) / (20 + 1);
    const timezone = Math.log(qTz / pAccTz); // −1.910

    // No ua/browser/os/locale on the event, though the account has all four: they add nothing.
    const s = statisticalLogRatio(
      { ip: "y", asn: "7922", country: "US", device: "d9", timezone: "America/New_York" },
      counts,
    );
    expect(s).toBeCloseTo(ip + device + timezone, 10); // 0.595 + 3.045 − 1.910 = 1.729
  });

  it("ignores kinds outside the hierarchies (subnet, region)", () => {
    const base = { ip: "y", asn: "7922", country: "US" };
    expect(statisticalLogRatio({ ...base, subnet: "203.0.113.0/24", region: "CA" }, counts)).toBe(
      statisticalLogRatio(base, counts),
    );
  });

  it("is 0 for an event with no features", () => {
    expect(statisticalLogRatio({}, counts)).toBe(0);
  });
});

describe("hierarchy levels that do not nest", () => {
  // A browser family is not inside one OS: of 10,000 workspace events 9,950 are Chrome on Windows and 50
  // are Chrome on Linux. p_W(Chrome | Linux) is 50 of 50, not 10,000 out of 50. An account with 20 events
  // of UA u1 / Chrome / Linux gets a Chrome update (new UA string u2): that must cost less than switching to
  // a Firefox it has never used.
  const counts = countsFrom(
    {
      os: { Linux: 50, Windows: 9_950 },
      browser: { [p("Linux", "Chrome")]: 50, [p("Windows", "Chrome")]: 9_950 },
      ua: { [p("Linux", "Chrome", "u1")]: 50 },
    },
    { os: 10_000 },
    { os: { Linux: 20 }, browser: { Chrome: 20 }, ua: { u1: 20 } },
  );
  const qLinux = (50 + 1) / (10_000 + 20);
  const pAccLinux = (20 + 1 * 1 * qLinux) / (20 + 1);

  it("conditions a browser on its OS with the browser's count within that OS", () => {
    const qChromeOnLinux = (50 + 1) / (50 + 20);
    const pAccChrome = (20 + 1 * pAccLinux * qChromeOnLinux) / (20 + 1);
    const qU2 = (0 + 1) / (50 + 100);
    const pAccU2 = (0 + 1 * pAccChrome * qU2) / (20 + 1);
    const chromeUpdate = Math.log((qLinux * qChromeOnLinux * qU2) / pAccU2); // −2.538

    const qFirefox = (0 + 1) / (50 + 20);
    const pAccFirefox = (0 + 1 * pAccLinux * qFirefox) / (20 + 1);
    const qUf = (0 + 1) / (0 + 100);
    const pAccUf = (0 + 1 * pAccFirefox * qUf) / (20 + 1);
    const newBrowser = Math.log((qLinux * qFirefox * qUf) / pAccUf); // 0.857

    const levels = (ua: string, browser: string): Array<[BaselineKind, string]> => [
      ["ua", ua],
      ["browser", browser],
      ["os", "Linux"],
    ];
    expect(hierarchyLogRatio(levels("uf", "Firefox"), counts)).toBeCloseTo(newBrowser, 10);
    expect(hierarchyLogRatio(levels("u2", "Chrome"), counts)).toBeCloseTo(chromeUpdate, 10);
    expect(logRatioToRisk(hierarchyLogRatio(levels("u2", "Chrome"), counts))).toBe(0);
  });
});

describe("populationPaths", () => {
  it("keys every present level by its path from the root, and marks the roots whose totals are counted", () => {
    expect(
      populationPaths({ ip: "1.2.3.4", asn: "7922", country: "US", device: "d1", subnet: "1.2.3.0/24" }),
    ).toEqual([
      { kind: "country", path: "US", root: true },
      { kind: "asn", path: p("US", "7922"), root: false },
      { kind: "ip", path: p("US", "7922", "1.2.3.4"), root: false },
      { kind: "device", path: "d1", root: true },
    ]);
    // A missing middle level joins the IP directly to its country, as hierarchyLogRatio looks it up.
    expect(populationPaths({ ip: "1.2.3.4", country: "US" }).map((x) => x.path)).toEqual([
      "US",
      p("US", "1.2.3.4"),
    ]);
  });
});

describe("riskFactors", () => {
  const counts = countsFrom(
    ipWorkspace,
    { ...ipTotals, device: 100 },
    { ...homeAccount, device: { d1: 20 } },
  );
  const features: Partial<Record<BaselineKind, string>> = {
    ip: "y",
    asn: "3320",
    country: "DE",
    device: "d1",
  };

  it("explains the score: its hierarchies' log ratios add up to the statistical log ratio", () => {
    const factors = riskFactors(features, counts);
    const sum = factors.reduce((s, f) => s + f.log_ratio, 0);
    expect(sum).toBeCloseTo(statisticalLogRatio(features, counts), 2);
  });

  it("comes with the exact log ratio from the same pass (what the judge scores every event with)", () => {
    const explained = explainRisk(features, counts);
    expect(explained.logRatio).toBe(statisticalLogRatio(features, counts));
    expect(explained.factors).toEqual(riskFactors(features, counts));
  });

  it("puts the riskiest feature first, with each level's probabilities from the coarsest down", () => {
    const [network, device] = riskFactors(features, counts);
    expect(network).toMatchObject({ kind: "ip", value: "y" });
    expect(network!.levels.map((l) => l.kind)).toEqual(["country", "asn", "ip"]);
    expect(network!.levels[0]!.p_workspace).toBeCloseTo((10 + 1) / (100 + 250), 3);
    // The account never used Germany: far rarer for it than for the workspace.
    expect(network!.levels[0]!.p_account).toBeLessThan(network!.levels[0]!.p_workspace);
    expect(device).toMatchObject({ kind: "device", value: "d1" });
    expect(device!.log_ratio).toBeLessThan(0);
  });
});
