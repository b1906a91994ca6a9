import { loadAsnDb } from "./asn.ts";
import { loadGeoDb } from "./geo.ts";
import { parseIp } from "./ip.ts";
import { loadNetworkTypes } from "./network-types.ts";
import type { Enricher, NetInfo } from "./types.ts";
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
export type { Enricher, IpClass, NetInfo, UaInfo } from "./types.ts";
export { parseUserAgent } from "./ua.ts";

/**
 * Loads the offline IP databases (≈0.4 s for ASN; geoip-lite blocks the event loop while it reads its files)
 * and returns a synchronous enricher. Call once at start-up and share it.
 */
export async function createEnricher(): Promise<Enricher> {
  const [geo, asn, types] = await Promise.all([loadGeoDb(), loadAsnDb(), loadNetworkTypes()]);
  return {
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
