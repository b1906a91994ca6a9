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
