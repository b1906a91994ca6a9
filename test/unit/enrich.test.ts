import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAsnDb } from "../../src/core/enrich/asn.ts";
import { createEnricher, type Enricher, isValidIp, parseIp } from "../../src/core/enrich/index.ts";
import { haversineKm } from "../../src/core/geo-distance.ts";

const CHROME_120_WINDOWS =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const CHROME_121_WINDOWS =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.6167.85 Safari/537.36";
const SAFARI_IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1";

describe("parseIp", () => {
  it.each([
    ["8.8.8.8", "public"],
    ["10.0.0.1", "private"],
    ["172.16.5.4", "private"],
    ["127.0.0.1", "loopback"],
    ["100.64.1.1", "cgnat"],
    ["169.254.1.1", "link_local"],
    ["192.0.2.1", "reserved"],
    ["198.51.100.1", "reserved"],
    ["203.0.113.7", "reserved"],
    ["255.255.255.255", "reserved"],
    ["224.0.0.1", "multicast"],
    ["0.0.0.0", "unspecified"],
    ["2001:4860:4860::8888", "public"],
    ["::1", "loopback"],
    ["fe80::1", "link_local"],
    ["fd12:3456::1", "private"],
    ["2001:db8::1", "reserved"],
    ["2002:808:808::1", "reserved"],
    ["ff02::1", "multicast"],
    ["::", "unspecified"],
  ])("classifies %s as %s", (ip, ipClass) => {
    expect(parseIp(ip)?.ipClass).toBe(ipClass);
  });

  it("turns an IPv4-mapped IPv6 address into the IPv4 address", () => {
    expect(parseIp("::ffff:8.8.8.8")).toEqual({
      ip: "8.8.8.8",
      version: 4,
      ipClass: "public",
      subnet: "8.8.8.0/24",
    });
    expect(parseIp("::ffff:10.1.2.3")).toMatchObject({ ip: "10.1.2.3", ipClass: "private" });
  });

  it("writes IPv6 lower-case and compressed, with its /48", () => {
    expect(parseIp("2001:0DB8:0001:0000:0000:0000:0000:00AB")).toEqual({
      ip: "2001:db8:1::ab",
      version: 6,
      ipClass: "reserved",
      subnet: "2001:db8:1::/48",
    });
    expect(parseIp("2a00:1450:4001:82a::200e")?.subnet).toBe("2a00:1450:4001::/48");
    expect(parseIp("::1")?.subnet).toBe("::/48");
  });

  it("gives the /24 of an IPv4 address", () => {
    expect(parseIp("203.0.113.7")?.subnet).toBe("203.0.113.0/24");
    expect(parseIp("1.2.3.255")?.subnet).toBe("1.2.3.0/24");
  });

  it.each([
    "999.1.1.1",
    "abc",
    "1.2.3",
    "",
    "127.1",
    "01.2.3.4",
    " 8.8.8.8",
    "8.8.8.8/32",
    "fe80::1%eth0",
    "2001:db8::1::2",
    "1:2:3:4:5:6:7:8:9",
    `${"1:".repeat(40)}1`,
  ])("rejects %j", (s) => {
    expect(parseIp(s)).toBeNull();
    expect(isValidIp(s)).toBe(false);
  });

  it("accepts what it can parse", () => {
    expect(isValidIp("8.8.8.8")).toBe(true);
    expect(isValidIp("::ffff:8.8.8.8")).toBe(true);
    expect(isValidIp("2001:4860:4860::8888")).toBe(true);
  });
});

describe("createEnricher", () => {
  let enricher: Enricher;
  beforeAll(async () => {
    enricher = await createEnricher();
  });

  it("resolves 8.8.8.8 to Google's network in the US", () => {
    const info = enricher.net("8.8.8.8");
    expect(info).toMatchObject({ ip: "8.8.8.8", version: 4, ipClass: "public", asn: 15169, country: "US" });
    expect(info.asnOrg).toMatch(/google/i);
    expect(info.lat).toBeTypeOf("number");
    expect(info.lon).toBeTypeOf("number");
  });

  it("resolves 1.1.1.1 to Cloudflare", () => {
    const info = enricher.net("1.1.1.1");
    expect(info.asn).toBe(13335);
    expect(info.asnOrg).toMatch(/cloudflare/i);
  });

  it("resolves a public IPv6 address", () => {
    expect(enricher.net("2001:4860:4860::8888")).toMatchObject({ version: 6, asn: 15169, country: "US" });
    expect(enricher.net("2606:4700:4700::1111").asn).toBe(13335);
  });

  it("enriches an IPv4-mapped address exactly like the IPv4 address", () => {
    expect(enricher.net("::ffff:8.8.8.8")).toEqual(enricher.net("8.8.8.8"));
  });

  it("prefixes the region with its country and fills city, timezone and accuracy", () => {
    const info = enricher.net("81.2.69.142");
    expect(info.country).toBe("GB");
    expect(info.region).toMatch(/^GB-[A-Z0-9]{1,3}$/);
    expect(info.city).toBeTypeOf("string");
    expect(info.timezone).toBe("Europe/London");
    expect(info.accuracyKm).toBeGreaterThan(0);
  });

  it.each(["10.0.0.1", "127.0.0.1", "100.64.1.1", "169.254.1.1", "203.0.113.7", "::1", "fe80::1", "fd00::1"])(
    "classifies %s but neither geolocates it nor names its network",
    (ip) => {
      const info = enricher.net(ip);
      expect(info.ipClass).not.toBe("public");
      expect(info).toMatchObject({
        asn: null,
        asnOrg: null,
        country: null,
        region: null,
        city: null,
        timezone: null,
        lat: null,
        lon: null,
        accuracyKm: null,
      });
    },
  );

  it("throws on an invalid address", () => {
    expect(() => enricher.net("999.1.1.1")).toThrow(/not an IP address/);
  });

  it("keeps browser and OS families stable across a version bump", () => {
    const a = enricher.ua(CHROME_120_WINDOWS);
    const b = enricher.ua(CHROME_121_WINDOWS);
    expect(a).toMatchObject({ browser: "Chrome", os: "Windows", deviceType: "desktop" });
    expect([b.browser, b.os, b.deviceType]).toEqual([a.browser, a.os, a.deviceType]);
    expect(a.browserVersion).toBe("120.0.0.0");
    expect(b.browserVersion).toBe("121.0.6167.85");
  });

  it("recognises Safari on an iPhone as mobile", () => {
    expect(enricher.ua(SAFARI_IPHONE)).toMatchObject({ os: "iOS", osVersion: "17.2", deviceType: "mobile" });
    expect(enricher.ua(SAFARI_IPHONE).browser).toMatch(/Safari/);
  });

  it.each(["", "garbage!!", "x".repeat(100_000)])("returns nulls for an unrecognisable user agent", (ua) => {
    expect(enricher.ua(ua)).toEqual({
      browser: null,
      browserVersion: null,
      os: null,
      osVersion: null,
      deviceType: "desktop",
    });
  });
});

describe("loadAsnDb", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tether-asn-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fixture(v4: string, v6 = ""): Promise<string> {
    const d = await mkdtemp(join(dir, "db-"));
    await writeFile(join(d, "asn-ipv4-num.csv"), v4);
    await writeFile(join(d, "asn-ipv6-num.csv"), v6);
    return d;
  }
  const v4 = (ip: string) => parseIp(ip)!;

  it("reads quoted names, doubled quotes, CRLF and a missing final newline", async () => {
    const db = await loadAsnDb(
      await fixture(
        [
          '16777216,16777471,13335,"Cloudflare, Inc."\r\n',
          '16777472,16777599,201907,"LLC ""SPUTNIK"""\n',
          "16777984,16778239,7,Plain Name",
        ].join(""),
        "42541956101370907050197289607612071936,42541956180599069564461627201156022271,15169,Google LLC\n",
      ),
    );
    expect(db.ranges).toEqual({ ipv4: 3, ipv6: 1 });
    expect(db.clipped).toEqual({ ipv4: 0, ipv6: 0 });
    expect(db.lookup(v4("1.0.0.0"))).toEqual({ asn: 13335, org: "Cloudflare, Inc." });
    expect(db.lookup(v4("1.0.0.255"))).toEqual({ asn: 13335, org: "Cloudflare, Inc." });
    expect(db.lookup(v4("1.0.1.127"))).toEqual({ asn: 201907, org: 'LLC "SPUTNIK"' });
    expect(db.lookup(v4("1.0.3.255"))).toEqual({ asn: 7, org: "Plain Name" });
    expect(db.lookup(v4("1.0.1.128"))).toBeNull();
    expect(db.lookup(v4("0.255.255.255"))).toBeNull();
    expect(db.lookup(v4("1.0.4.0"))).toBeNull();
    expect(db.lookup(parseIp("2001:4860:ffff::1")!)).toEqual({ asn: 15169, org: "Google LLC" });
    expect(db.lookup(parseIp("2001:4861::1")!)).toBeNull();
  });

  it("lets the earlier of two overlapping rows keep the overlap", async () => {
    const db = await loadAsnDb(
      await fixture("16777216,16777471,1,First\n16777344,16777727,2,Second\n16777500,16777600,3,Inside\n"),
    );
    expect(db.ranges.ipv4).toBe(2);
    expect(db.clipped.ipv4).toBe(2);
    expect(db.lookup(v4("1.0.0.200"))?.asn).toBe(1);
    expect(db.lookup(v4("1.0.1.0"))?.asn).toBe(2);
    expect(db.lookup(v4("1.0.1.100"))?.asn).toBe(2);
    expect(db.lookup(v4("1.0.1.255"))?.asn).toBe(2);
  });

  it("answers for whole IPv6 /64s, the first row winning where rows share one", async () => {
    const v6 = [
      "42541956101370907050197289607612071936,42541956180599069564461627201156022271,15169,Google /32",
      "42541956123769884636017138956568100864,42541956123771093561836753585742807039,1,Nested /48",
      "42541956180599069564461627201156022272,42541956180599069573684999238010798079,2,Lower half of a /64",
      "42541956180599069573684999238010798080,42541956180599069582908371274865573887,3,Upper half of a /64",
    ].join("\n");
    const db = await loadAsnDb(await fixture("", v6));
    expect(db.ranges.ipv6).toBe(2);
    expect(db.clipped.ipv6).toBe(2);
    expect(db.lookup(parseIp("2001:4860:4860::8888")!)?.asn).toBe(15169);
    expect(db.lookup(parseIp("2001:4861::1")!)?.asn).toBe(2);
    expect(db.lookup(parseIp("2001:4861::8000:0:0:1")!)?.asn).toBe(2);
    expect(db.lookup(parseIp("2001:4861:0:1::1")!)).toBeNull();
  });

  it("refuses unsorted or malformed data, naming the line", async () => {
    await expect(loadAsnDb(await fixture("16777472,16777727,1,A\n16777216,16777471,2,B\n"))).rejects.toThrow(
      /asn-ipv4-num\.csv line 2: ranges are not sorted/,
    );
    await expect(loadAsnDb(await fixture("16777216,x,1,A\n"))).rejects.toThrow(/line 1: expected a number/);
  });
});

describe("haversineKm", () => {
  it("measures London to Paris at about 344 km", () => {
    expect(haversineKm(51.5074, -0.1278, 48.8566, 2.3522)).toBeCloseTo(344, -1);
  });

  it("is zero for one point and half the circumference for antipodes", () => {
    expect(haversineKm(35.68, 139.69, 35.68, 139.69)).toBe(0);
    expect(haversineKm(0, 0, 0, 180)).toBeCloseTo(Math.PI * 6371.0088, 6);
  });
});
