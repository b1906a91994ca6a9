import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** What kind of network an autonomous system is: what a platform's risk control checks an address against. */
export const NETWORK_TYPES = ["residential", "mobile", "hosting", "vpn"] as const;
export type NetworkType = (typeof NETWORK_TYPES)[number];

/** Types that no store account's own workstation should sit on: servers and anonymisers. */
export const DATACENTER_TYPES: ReadonlySet<NetworkType> = new Set(["hosting", "vpn"]);

/**
 * How the type was decided: `list` by the vendored table of named operators, `name` by the organisation's
 * name (e.g. "… Hosting Ltd"), `default` when neither said anything and the network counts as residential.
 */
export type NetworkTypeSource = "list" | "name" | "default";

export interface NetworkClass {
  type: NetworkType;
  source: NetworkTypeSource;
}

export interface NetworkTypeDb {
  classify(asn: number, org: string | null): NetworkClass;
  /** ASNs the table names */
  readonly listed: number;
}

/** The vendored table; `npm run data:refresh -- network-types.csv` installs a replacement. */
export const PACKAGED_NETWORK_TYPES = fileURLToPath(new URL("./network-types.csv", import.meta.url));

export const isNetworkType = (s: string): s is NetworkType =>
  (NETWORK_TYPES as readonly string[]).includes(s);

/**
 * Parses `asn,type,name` rows (a header line and `#` comments allowed). Throws naming the file and line on
 * anything else, so a bad refresh is refused before it is installed.
 */
export function parseNetworkTypes(text: string, file: string): Map<number, NetworkType> {
  const out = new Map<number, NetworkType>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || /^asn\s*,/i.test(line)) return;
    const [asnField = "", typeField = ""] = line.split(",");
    const asn = Number(asnField.trim().replace(/^AS/i, ""));
    const type = typeField.trim().toLowerCase();
    if (!Number.isInteger(asn) || asn <= 0 || asn > 0xffffffff)
      throw new Error(`${file} line ${i + 1}: "${asnField}" is not an AS number`);
    if (!isNetworkType(type))
      throw new Error(`${file} line ${i + 1}: type "${typeField}" is not one of ${NETWORK_TYPES.join(", ")}`);
    const before = out.get(asn);
    if (before && before !== type)
      throw new Error(`${file} line ${i + 1}: AS${asn} is listed as both ${before} and ${type}`);
    out.set(asn, type);
  });
  return out;
}

/*
 * Organisation names that say what an unlisted network is. Measured on @ip-location-db/asn 2.3.2026061719
 * (91,065 ASNs): 1,509 names read as hosting, 10 as VPN/proxy, 226 as mobile. "Wireless" is left out on
 * purpose: most such names are fixed-wireless access providers, which serve homes.
 */
const BY_NAME: Array<[NetworkType, RegExp]> = [
  ["vpn", /\bvpn\b|\bprox(y|ies)\b|\btor exit/i],
  [
    "hosting",
    /hosting|datacent|data[ -]cent(er|re)|\bvps\b|\bcolo(cation)?\b|\bservers?\b|\bcloud\b|\bdedicated\b/i,
  ],
  ["mobile", /\bmobile\b|\bmobility\b|\bcellular\b|\bcellco\b/i],
];

export function networkTypeDb(listed: ReadonlyMap<number, NetworkType>): NetworkTypeDb {
  return {
    listed: listed.size,
    classify(asn, org) {
      const type = listed.get(asn);
      if (type) return { type, source: "list" };
      if (org) for (const [t, pattern] of BY_NAME) if (pattern.test(org)) return { type: t, source: "name" };
      return { type: "residential", source: "default" };
    },
  };
}

export async function loadNetworkTypes(file: string = PACKAGED_NETWORK_TYPES): Promise<NetworkTypeDb> {
  return networkTypeDb(parseNetworkTypes(await readFile(file, "utf8"), file));
}
