import { describe, expect, it } from "vitest";
import { ACCURACY_KM, loadGeoDb, toGeoInfo } from "../../src/core/enrich/geo.ts";
import { createEnricher, versionDate } from "../../src/core/enrich/index.ts";
import { createRegionCodes, normaliseName } from "../../src/core/enrich/regions.ts";
import { buildRegionNames } from "../../src/regions-build.ts";

describe("subdivision names to ISO 3166-2", () => {
  const codes = createRegionCodes([
    ["JP", "Aichi", "JP-23"],
    ["JP", "Nowhere", "JP-99"],
  ]);

  it("normalises case, diacritics and punctuation", () => {
    expect(normaliseName("Île-de-France")).toBe("ile de france");
    expect(normaliseName("  Hồ Chí Minh ")).toBe("ho chi minh");
    expect(normaliseName("Moskovskaya oblast'")).toBe("moskovskaya oblast");
  });

  it.each([
    ["US", "California", "US-CA"],
    ["US", "california", "US-CA"],
    ["GB", "England", "GB-ENG"],
    ["GB", "Scotland", "GB-SCT"],
    ["FR", "Ile-de-France", "FR-IDF"],
    ["CA", "Quebec", "CA-QC"],
    ["CN", "Beijing", "CN-BJ"],
    ["CN", "Guangdong Sheng", "CN-GD"],
    ["JP", "Tokyo", "JP-13"],
    ["JP", "Osaka Prefecture", "JP-27"],
    ["KR", "Seoul", "KR-11"],
    ["RU", "Moskva", "RU-MOW"],
    ["ES", "Comunidad de Madrid", "ES-MD"],
    ["PL", "Mazowieckie", "PL-14"],
    ["BR", "São Paulo", "BR-SP"],
  ])("maps %s %s to %s", (country, name, code) => {
    expect(codes.code(country, name)).toBe(code);
  });

  it("answers a lower subdivision with the first-level one it belongs to", () => {
    // Valencia the province (ES-V) lies in the Valencian Community (ES-VC)
    expect(codes.code("ES", "Valencia")).toBe("ES-VC");
  });

  it("takes English names from the alias list, but only with codes the ISO list has", () => {
    expect(codes.code("JP", "Aichi")).toBe("JP-23");
    expect(codes.code("JP", "Nowhere")).toBeNull();
  });

  it("maps no name it cannot place, and none that two subdivisions share after stripping kind words", () => {
    expect(codes.code("US", "Atlantis")).toBeNull();
    expect(codes.code("US", "")).toBeNull();
    expect(codes.code("XX", "California")).toBeNull();
    // "Mexico City" without "city" is the State of México: the English name says which
    expect(codes.code("MX", "Mexico City")).toBe("MX-CMX");
    // Veszprém is both a county (HU-VE) and a city with county rights (HU-VM)
    expect(codes.code("HU", "Veszprém")).toBeNull();
    const clash = createRegionCodes([
      ["DE", "Franconia", "DE-BY"],
      ["DE", "Franconia", "DE-TH"],
    ]);
    expect(clash.code("DE", "Franconia")).toBeNull();
  });
});

describe("English subdivision names (region-names.en.json, from iso3166-2-db)", () => {
  const codes = createRegionCodes();
  const isoOnly = createRegionCodes([], { englishNames: false });

  it.each([
    ["DE", "North Rhine-Westphalia", "DE-NW"],
    ["DE", "Bavaria", "DE-BY"],
    ["DE", "Lower Saxony", "DE-NI"],
    ["NL", "South Holland", "NL-ZH"],
    ["PL", "Mazovia", "PL-14"],
    ["IT", "Tuscany", "IT-52"],
    ["CZ", "Prague", "CZ-10"],
    ["RU", "Altai Krai", "RU-ALT"],
    ["RU", "Altai Republic", "RU-AL"],
    // Iran's provinces were renumbered in ISO; the data's old IR-07 is Fars now
    ["IR", "Tehran", "IR-23"],
  ])("maps %s %s to %s", (country, name, code) => {
    expect(codes.code(country, name)).toBe(code);
  });

  it("are what maps the English names: ISO's local names alone do not", () => {
    expect(isoOnly.code("DE", "North Rhine-Westphalia")).toBeNull();
    expect(isoOnly.code("DE", "Bavaria")).toBeNull();
  });

  it("are neither overridden nor made ambiguous by an alias list with an older code", () => {
    // country-region-data still has Tehran as IR-07, Fars since ISO renumbered Iran's provinces
    expect(createRegionCodes([["IR", "Tehran", "IR-07"]]).code("IR", "Tehran")).toBe("IR-23");
  });

  it("beat the nearest-spelling guess with an exact name", () => {
    // "north holland" is nearer to the new "south holland" than to ISO's "noord holland"
    expect(codes.code("NL", "North Holland")).toBe("NL-NH");
  });

  it("give a Telekom address in Düsseldorf North Rhine-Westphalia", async () => {
    const enricher = await createEnricher();
    expect(enricher.net("79.192.0.44")).toMatchObject({ country: "DE", region: "DE-NW", city: "Dusseldorf" });
  });
});

describe("buildRegionNames", () => {
  const entry = (iso: string, name: string, names: Record<string, string> = {}) => ({
    name,
    iso,
    names: { en: name, ...names },
    reference: {},
  });
  const build = (country: string, regions: ReturnType<typeof entry>[]) =>
    buildRegionNames({ [country]: { regions } }, {}, {}, { version: "0.0.0", licence: "test" }).file.names[
      country
    ] ?? {};

  it("keeps English names with the code, only for codes the ISO list has", () => {
    expect(build("DE", [entry("NW", "North Rhine-Westphalia"), entry("XX", "Atlantis")])).toEqual({
      "North Rhine-Westphalia": "NW",
    });
  });

  it("takes the code the names match when the data's code is stale, and drops the unconfirmed rest", () => {
    const names = build("IR", [
      entry("07", "Tehran Province", { geonames: "Tehran" }),
      entry("01", "East Azerbaijan Province"),
    ]);
    expect(names).toMatchObject({ "Tehran Province": "23", Tehran: "23" });
    expect(names["East Azerbaijan Province"]).toBeUndefined();
  });

  it("drops a name that ISO gives another code, and one that two subdivisions share", () => {
    const names = build("DE", [
      entry("BY", "Bavaria", { de: "Bayern", geonames: "Hessen" }),
      entry("SN", "Saxony", { geonames: "Middle Germany" }),
      entry("ST", "Saxony-Anhalt", { geonames: "Middle Germany" }),
    ]);
    expect(names).toEqual({ Bavaria: "BY", Saxony: "SN", "Saxony-Anhalt": "ST" });
  });
});

describe("GeoLite2 City rows", () => {
  const row = {
    country_code: "GB",
    state1: "England",
    state2: "Bracknell Forest",
    city: "Bracknell",
    latitude: 51.4,
    longitude: -0.76,
    timezone: "Europe/London",
  };

  it("keeps NetInfo's shape, with an ISO region", () => {
    expect(toGeoInfo(row)).toEqual({
      country: "GB",
      region: "GB-ENG",
      city: "Bracknell",
      timezone: "Europe/London",
      lat: 51.4,
      lon: -0.76,
      accuracyKm: ACCURACY_KM.city,
    });
  });

  it("stands the accuracy radius in by what the row knows: city, region or only the country", () => {
    expect(toGeoInfo({ ...row, city: "" })?.accuracyKm).toBe(ACCURACY_KM.region);
    expect(toGeoInfo({ ...row, city: "", state1: "", state2: "" })).toMatchObject({
      region: null,
      accuracyKm: ACCURACY_KM.country,
    });
    expect(toGeoInfo({ ...row, latitude: undefined })).toMatchObject({
      lat: null,
      lon: null,
      accuracyKm: null,
    });
    expect(ACCURACY_KM.city).toBeLessThan(ACCURACY_KM.region);
    expect(ACCURACY_KM.region).toBeLessThan(ACCURACY_KM.country);
  });

  it("turns empty fields into nulls and a row without a country into no answer", () => {
    expect(toGeoInfo({ ...row, city: "", timezone: "" })).toMatchObject({ city: null, timezone: null });
    expect(toGeoInfo({ ...row, country_code: "" })).toBeNull();
    expect(toGeoInfo(null)).toBeNull();
  });
});

describe("loadGeoDb", () => {
  it("reads the packaged data and its build date", async () => {
    const geo = await loadGeoDb();
    expect(geo.builtAt.toISOString()).toMatch(/^20\d\d-/);
    expect(geo.lookup("81.2.69.142")).toMatchObject({ country: "GB", region: "GB-ENG" });
    expect(geo.lookup("2a00:1450:4001:82a::200e")).toMatchObject({ country: "DE", region: "DE-HE" });
    expect(geo.lookup("1.1.1.1")).toBeNull();
  });

  it("refuses a folder without the data, naming the file", async () => {
    await expect(loadGeoDb("/nonexistent")).rejects.toThrow(/geolite2-city-ipv4\.mmdb/);
  });
});

it("reads the build hour from an ip-location-db version", () => {
  expect(versionDate("2.3.2026061719")?.toISOString()).toBe("2026-06-17T19:00:00.000Z");
  expect(versionDate("1.0.0")).toBeNull();
});
