import type { NetInfo } from "./types.ts";

export type GeoInfo = Pick<
  NetInfo,
  "country" | "region" | "city" | "timezone" | "lat" | "lon" | "accuracyKm"
>;

export interface GeoDb {
  /** `ip` must be a valid, public address; null when MaxMind's data has no row for it */
  lookup(ip: string): GeoInfo | null;
}

const orNull = (s: string | undefined): string | null => (s ? s : null);

/**
 * Loads geoip-lite's bundled GeoLite2 city data. geoip-lite reads ~150 MB synchronously when it is first
 * imported, so the import happens here rather than at module load.
 */
export async function loadGeoDb(): Promise<GeoDb> {
  const geoip = (await import("geoip-lite")).default;
  return {
    lookup(ip) {
      const hit = geoip.lookup(ip);
      if (!hit) return null;
      const country = orNull(hit.country);
      const region = orNull(hit.region);
      // geoip-lite leaves area unset (and ll as [null, null] or [0, 0]) when a network has no location row,
      // despite what its type declarations say.
      const located = typeof hit.area === "number" && typeof hit.ll?.[0] === "number";
      return {
        country,
        region: country && region ? `${country}-${region}` : null,
        city: orNull(hit.city),
        timezone: orNull(hit.timezone),
        lat: located ? hit.ll[0] : null,
        lon: located ? hit.ll[1] : null,
        accuracyKm: located && hit.area > 0 ? hit.area : null,
      };
    },
  };
}
