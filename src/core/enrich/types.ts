import type { NetworkType, NetworkTypeSource } from "./network-types.ts";

export type IpClass =
  | "public"
  | "private"
  | "loopback"
  | "link_local"
  | "cgnat"
  | "reserved"
  | "multicast"
  | "unspecified";

/** What tether knows about one IP address, offline. Non-public addresses are classified, never geolocated. */
export interface NetInfo {
  /** canonical form: IPv4-mapped IPv6 becomes IPv4; IPv6 lower-case and compressed */
  ip: string;
  version: 4 | 6;
  ipClass: IpClass;
  /** the /24 (IPv4) or /48 (IPv6) network, e.g. "203.0.113.0/24", "2001:db8:1::/48" */
  subnet: string;
  asn: number | null;
  asnOrg: string | null;
  /** residential ISP, mobile carrier, hosting/datacenter or VPN/proxy provider; null without an ASN */
  networkType: NetworkType | null;
  /** how `networkType` was decided (src/core/enrich/network-types.ts) */
  networkTypeSource: NetworkTypeSource | null;
  /** ISO 3166-1 alpha-2 */
  country: string | null;
  /** ISO 3166-2 subdivision with its country, e.g. "US-CA" */
  region: string | null;
  city: string | null;
  /** IANA timezone of the IP's location */
  timezone: string | null;
  lat: number | null;
  lon: number | null;
  /** accuracy radius of the coordinates in km */
  accuracyKm: number | null;
}

export interface UaInfo {
  /** family only, e.g. "Chrome", "Safari"; a version bump never changes it */
  browser: string | null;
  browserVersion: string | null;
  /** family only, e.g. "Windows", "Mac OS", "Android" */
  os: string | null;
  osVersion: string | null;
  /** "desktop" when the parser names no device type */
  deviceType: string;
}

/** Which data an enricher answers from, and how old it is. */
export interface DatasetInfo {
  dataset: "geo" | "asn";
  /** the package and version, or what the manifest of an installed data set says */
  source: string;
  /** when the data was built */
  builtAt: Date;
  /** shipped in node_modules, or installed by `npm run data:refresh` */
  origin: "package" | "installed";
}

export interface Enricher {
  net(ip: string): NetInfo;
  ua(userAgent: string): UaInfo;
  readonly datasets: readonly DatasetInfo[];
}
