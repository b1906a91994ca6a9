import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import {
  loadNetworkTypes,
  NETWORK_TYPES,
  networkTypeDb,
  PACKAGED_NETWORK_TYPES,
  parseNetworkTypes,
} from "../../src/core/enrich/network-types.ts";

describe("network-type table", () => {
  it("parses the vendored table: every row a known type, no ASN twice", async () => {
    const text = await readFile(PACKAGED_NETWORK_TYPES, "utf8");
    const table = parseNetworkTypes(text, "network-types.csv");
    expect(table.size).toBeGreaterThan(50);
    expect(new Set(table.values())).toEqual(new Set(NETWORK_TYPES.filter((t) => t !== "residential")));
    expect(table.get(14061)).toBe("hosting");
    expect(table.get(39351)).toBe("vpn");
    expect(table.get(21928)).toBe("mobile");
  });

  it.each([
    ["14061,datacenter,x", /line 1: type "datacenter"/],
    ["AS-1,hosting,x", /line 1: "AS-1" is not an AS number/],
    ["asn,type,name\n# comment\n\n70000000000,vpn,x", /line 4: "70000000000" is not an AS number/],
    ["1,hosting,a\n1,mobile,b", /line 2: AS1 is listed as both hosting and mobile/],
  ])("refuses %j naming the line", (text, error) => {
    expect(() => parseNetworkTypes(text, "f.csv")).toThrow(error);
  });

  it("accepts AS-prefixed numbers, CRLF and upper-case types", () => {
    expect([...parseNetworkTypes("AS64500,HOSTING,x\r\n64501,vpn\r\n", "f")]).toEqual([
      [64500, "hosting"],
      [64501, "vpn"],
    ]);
  });
});

describe("classify", () => {
  const db = networkTypeDb(new Map([[64500, "mobile"]]));

  it("prefers the table over the name", () => {
    expect(db.classify(64500, "Example Hosting Ltd")).toEqual({ type: "mobile", source: "list" });
  });

  it.each([
    ["Scala Hosting LLC", "hosting"],
    ["Djibouti Data Center SARL", "hosting"],
    ["NUSO CLOUD UK LIMITED", "hosting"],
    ["Dedicated Servers - Sydney", "hosting"],
    ["Example VPN Ltd", "vpn"],
    ["Singapore Telecom Mobile Pte Ltd", "mobile"],
    ["Comcast Cable Communications, LLC", "residential"],
    ["JAB Wireless, INC.", "residential"],
    ["Chinanet", "residential"],
  ])("reads an unlisted %j as %s", (org, type) => {
    expect(db.classify(1, org).type).toBe(type);
    expect(db.classify(1, org).source).toBe(type === "residential" ? "default" : "name");
  });

  it("counts an ASN without a name as residential by default", () => {
    expect(db.classify(1, null)).toEqual({ type: "residential", source: "default" });
  });

  it("loads the packaged file by default", async () => {
    const loaded = await loadNetworkTypes();
    expect(loaded.classify(16509, "Amazon.com, Inc.")).toEqual({ type: "hosting", source: "list" });
  });
});
