/**
 * How the GeoLite2 City mmdb data and its region-name mapping compare with geoip-lite 1.4.9 (2023-11-15
 * GeoLite2, which has ISO region codes), over one address per public IPv4 /16 (x.y.128.1). geoip-lite is no
 * longer a dependency, so install it for the run:
 *
 *   npm install --no-save geoip-lite@1.4.9 && node --import tsx bench/geo-coverage.ts
 *
 * Prints the shares docs/enrichment.md quotes, the most common unmapped names and region disagreements,
 * and geoip-lite's accuracy radii by what the new data knows of the same address (the accuracy stand-in).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Reader, type Response } from "mmdb-lib";
import { type ACCURACY_KM, GEO_FILES, packagedGeoDir, toGeoInfo } from "../src/core/enrich/geo.ts";
import { parseIp } from "../src/core/enrich/ip.ts";
import { percentile } from "./util.ts";

interface OldHit {
  country: string;
  region: string;
  city: string;
  area: number | null;
}
const geoip = createRequire(import.meta.url)("geoip-lite") as { lookup(ip: string): OldHit | null };
interface Row {
  country_code?: string;
  state1?: string;
  state2?: string;
  city?: string;
}
const v4 = new Reader<Response>(readFileSync(join(packagedGeoDir(), GEO_FILES[0])));

const pct = (x: number, y: number) =>
  `${x.toLocaleString("en-US")} / ${y.toLocaleString("en-US")} = ${((100 * x) / y).toFixed(1)} %`;
const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
const top = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${v} ${k}`);

let addresses = 0;
let located = 0;
let withRegionName = 0;
let mapped = 0;
let bothCountry = 0;
let countryAgrees = 0;
let bothRegion = 0;
let regionAgrees = 0;
let oldRegion = 0;
const areas: Record<keyof typeof ACCURACY_KM, number[]> = { city: [], region: [], country: [] };
const unmapped = new Map<string, number>();
const disagree = new Map<string, number>();
for (let a = 1; a < 224; a++) {
  for (let b = 0; b < 256; b++) {
    const ip = `${a}.${b}.128.1`;
    if (parseIp(ip)?.ipClass !== "public") continue;
    addresses++;
    const row = v4.get(ip) as Row | null;
    const now = toGeoInfo(row);
    const old = geoip.lookup(ip);
    if (row && now?.country) {
      located++;
      const level = now.city ? "city" : row.state1 || row.state2 ? "region" : "country";
      if (row.state1 || row.state2) {
        withRegionName++;
        if (now.region) mapped++;
        else count(unmapped, `${now.country} ${row.state1 || row.state2}`);
      }
      if (old && typeof old.area === "number" && old.area > 0) areas[level].push(old.area);
    }
    if (now?.country && old?.country) {
      bothCountry++;
      if (now.country === old.country) {
        countryAgrees++;
        if (old.region) {
          oldRegion++;
          if (now.region) {
            bothRegion++;
            if (now.region === `${old.country}-${old.region}`) regionAgrees++;
            else count(disagree, `${now.region} (now) vs ${old.country}-${old.region} (2023)`);
          }
        }
      }
    }
  }
}
const radii = Object.fromEntries(
  Object.entries(areas).map(([k, v]) => {
    v.sort((x, y) => x - y);
    return [k, { n: v.length, p25: percentile(v, 0.25), p50: percentile(v, 0.5), p75: percentile(v, 0.75) }];
  }),
);
console.log(
  JSON.stringify(
    {
      addresses,
      located: pct(located, addresses),
      regionNamed: pct(withRegionName, located),
      regionMapped: pct(mapped, withRegionName),
      countryAgrees: pct(countryAgrees, bothCountry),
      regionAgrees: pct(regionAgrees, bothRegion),
      oldRegionsStillMapped: pct(bothRegion, oldRegion),
      geoipLiteRadiusKmByLevel: radii,
      unmappedTop: top(unmapped, 25),
      regionDisagreementsTop: top(disagree, 15),
    },
    null,
    2,
  ),
);
