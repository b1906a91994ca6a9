import ipaddr from "ipaddr.js";
import type { IpClass, NetInfo } from "./types.ts";

export type ParsedIp = Pick<NetInfo, "ip" | "version" | "ipClass" | "subnet">;

/**
 * ipaddr.js range names → tether classes. Globally routed unicast, including the anycast AS112 and AMT
 * blocks, is "public". Everything else special-purpose is "reserved" and not geolocated: documentation,
 * benchmarking, NAT64, ORCHID, SRv6, and the 6to4/Teredo tunnel prefixes, whose routing data names the
 * relay operator (Hurricane Electric today) rather than the client. ipaddr.js already files 192.0.2.0/24,
 * 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32 under "reserved".
 */
const RANGE_CLASS: Readonly<Record<string, IpClass>> = {
  unicast: "public",
  as112: "public",
  as112v6: "public",
  amt: "public",
  private: "private",
  uniqueLocal: "private",
  // site-local (fec0::/10) is the deprecated predecessor of unique-local addresses
  deprecatedSiteLocal: "private",
  loopback: "loopback",
  linkLocal: "link_local",
  carrierGradeNat: "cgnat",
  multicast: "multicast",
  unspecified: "unspecified",
};

// The longest IPv6 literal with an embedded IPv4 is 45 characters; anything longer is rejected unparsed.
const MAX_IP_LENGTH = 45;

function toAddress(s: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (s.length > MAX_IP_LENGTH) return null;
  // Only dotted quads: ipaddr.js would also take "1.2.3", "127.1" and octal/hex parts, which browsers and
  // proxies never send and which hide typos.
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) return ipaddr.IPv4.parse(s);
  // Zone ids ("fe80::1%eth0") only mean something on the host that wrote them.
  if (s.includes("%") || !ipaddr.IPv6.isValid(s)) return null;
  const v6 = ipaddr.IPv6.parse(s);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
}

function subnetOf(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  if (addr.kind() === "ipv4") {
    const [a, b, c] = (addr as ipaddr.IPv4).octets;
    return `${a}.${b}.${c}.0/24`;
  }
  const [p0 = 0, p1 = 0, p2 = 0] = (addr as ipaddr.IPv6).parts;
  return `${new ipaddr.IPv6([p0, p1, p2, 0, 0, 0, 0, 0]).toString()}/48`;
}

/** Validates and classifies an IP literal; null when `s` is not a plain IPv4 or IPv6 address. */
export function parseIp(s: string): ParsedIp | null {
  const addr = toAddress(s);
  if (!addr) return null;
  return {
    ip: addr.toString(),
    version: addr.kind() === "ipv4" ? 4 : 6,
    // Unknown (future) ipaddr.js ranges are not geolocated until someone decides otherwise.
    ipClass: RANGE_CLASS[addr.range()] ?? "reserved",
    subnet: subnetOf(addr),
  };
}

export function isValidIp(s: string): boolean {
  return toAddress(s) !== null;
}
