import ipaddr from "ipaddr.js";

export function isValidCidr(cidr: string): boolean {
  try {
    ipaddr.parseCIDR(cidr);
    return true;
  } catch {
    return false;
  }
}

/** Whether an address lies in a CIDR block; IPv4-mapped IPv6 addresses match IPv4 blocks. */
export function ipInCidr(ip: string, cidr: string): boolean {
  try {
    let addr = ipaddr.parse(ip);
    const [range, bits] = ipaddr.parseCIDR(cidr);
    if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
      addr = (addr as ipaddr.IPv6).toIPv4Address();
    }
    return addr.kind() === range.kind() && addr.match(range, bits);
  } catch {
    return false;
  }
}

/** The network of an address at a prefix length, as "a.b.c.0/24" or "2001:db8::/48"; null if not an address. */
export function subnetOf(ip: string, prefix: number): string | null {
  try {
    let addr = ipaddr.parse(ip);
    if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
      addr = (addr as ipaddr.IPv6).toIPv4Address();
    }
    const bits = Math.min(prefix, addr.kind() === "ipv4" ? 32 : 128);
    const network =
      addr.kind() === "ipv4"
        ? ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${bits}`)
        : ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/${bits}`);
    return `${network.toString()}/${bits}`;
  } catch {
    return null;
  }
}
