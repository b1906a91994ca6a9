import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import ipaddr from "ipaddr.js";
import type { ParsedIp } from "./ip.ts";

export interface AsnInfo {
  asn: number;
  org: string;
}

export interface AsnDb {
  lookup(ip: ParsedIp): AsnInfo | null;
  /** rows kept per family, for start-up logs and sanity checks */
  readonly ranges: { readonly ipv4: number; readonly ipv6: number };
  /** rows shortened or dropped because they overlapped the row before */
  readonly clipped: { readonly ipv4: number; readonly ipv6: number };
}

const NL = 0x0a;
const CR = 0x0d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const ZERO = 0x30;
const SHIFT_64 = 64n;

/** Deduplicates organisation names: ~515k rows share far fewer names, and rows then store a Uint32 index. */
class OrgTable {
  readonly names: string[] = [];
  private readonly index = new Map<string, number>();
  id(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(name);
      this.index.set(name, i);
    }
    return i;
  }
}

/**
 * A forward-only reader over one CSV buffer of `start,end,asn,org` rows. Parsing bytes by hand instead of
 * splitting lines keeps loading well under a second and allocates only the org strings.
 */
class Cursor {
  pos = 0;
  line = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly file: string,
  ) {}

  /** Moves to the next row; false at the end of the buffer. */
  next(): boolean {
    this.line++;
    return this.pos < this.buf.length;
  }

  fail(what: string): never {
    throw new Error(`${this.file} line ${this.line}: ${what}`);
  }

  /** A decimal field that fits a double exactly (IPv4 numbers, AS numbers). */
  uint(): number {
    const { buf } = this;
    const start = this.pos;
    let n = 0;
    let c = buf[this.pos];
    while (c !== undefined && c >= ZERO && c <= ZERO + 9) {
      n = n * 10 + (c - ZERO);
      c = buf[++this.pos];
    }
    if (this.pos === start || c !== COMMA) this.fail("expected a number followed by a comma");
    this.pos++;
    return n;
  }

  /** The high 64 bits of a 128-bit decimal field. */
  high64(): bigint {
    const start = this.pos;
    const end = this.buf.indexOf(COMMA, start);
    if (end <= start) this.fail("expected a number followed by a comma");
    this.pos = end + 1;
    try {
      return BigInt(this.buf.toString("latin1", start, end)) >> SHIFT_64;
    } catch {
      return this.fail("expected a decimal IPv6 number");
    }
  }

  /** The last field, quoted or not, up to the end of the line. */
  org(): string {
    const { buf } = this;
    let text: string;
    if (buf[this.pos] === QUOTE) {
      const start = this.pos + 1;
      let end = start;
      let escaped = false;
      for (;;) {
        end = buf.indexOf(QUOTE, end);
        if (end < 0) this.fail("unterminated quoted field");
        if (buf[end + 1] !== QUOTE) break;
        escaped = true;
        end += 2;
      }
      text = buf.toString("utf8", start, end);
      if (escaped) text = text.replaceAll('""', '"');
      this.pos = end + 1;
    } else {
      let end = buf.indexOf(NL, this.pos);
      if (end < 0) end = buf.length;
      text = buf.toString("utf8", this.pos, buf[end - 1] === CR ? end - 1 : end);
      this.pos = end;
    }
    if (buf[this.pos] === CR) this.pos++;
    if (this.pos < buf.length && buf[this.pos] !== NL) this.fail("unexpected data after the last field");
    this.pos++;
    return text;
  }
}

function rowCount(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(NL); i >= 0; i = buf.indexOf(NL, i + 1)) n++;
  return buf.length > 0 && buf[buf.length - 1] !== NL ? n + 1 : n;
}

/** Index of the last element ≤ key in an ascending array, or -1. */
function floorIndex<T extends number | bigint>(sorted: ArrayLike<T>, key: T, length: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as T) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

interface V4Table {
  starts: Uint32Array;
  ends: Uint32Array;
  asns: Uint32Array;
  orgs: Uint32Array;
  length: number;
  /** rows shortened or dropped because they overlapped the row before */
  clipped: number;
}

function parseV4(buf: Buffer, file: string, orgs: OrgTable): V4Table {
  const capacity = rowCount(buf);
  const t: V4Table = {
    starts: new Uint32Array(capacity),
    ends: new Uint32Array(capacity),
    asns: new Uint32Array(capacity),
    orgs: new Uint32Array(capacity),
    length: 0,
    clipped: 0,
  };
  const cur = new Cursor(buf, file);
  let prevStart = -1;
  let prevEnd = -1;
  while (cur.next()) {
    let start = cur.uint();
    const end = cur.uint();
    const asn = cur.uint();
    const org = cur.org();
    if (start < prevStart || end < start || end > 0xffffffff) cur.fail("ranges are not sorted");
    prevStart = start;
    // Binary search needs disjoint ranges and the published data has the odd overlap: the earlier row keeps
    // it, which clips the later row and never loses coverage.
    if (start <= prevEnd) {
      t.clipped++;
      if (end <= prevEnd) continue;
      start = prevEnd + 1;
    }
    prevEnd = end;
    const i = t.length++;
    t.starts[i] = start;
    t.ends[i] = end;
    t.asns[i] = asn;
    t.orgs[i] = orgs.id(org);
  }
  return t;
}

interface V6Table {
  starts: BigUint64Array;
  ends: BigUint64Array;
  asns: Uint32Array;
  orgs: Uint32Array;
  length: number;
  clipped: number;
}

/**
 * IPv6 ranges keep only the high 64 bits (the /64 network) of each bound, halving memory and sparing
 * 128-bit arithmetic. Routing and allocation happen at /64 or wider: 51 of ~103k rows are narrower, and where
 * rows share a /64 the first one answers for all of it.
 */
function parseV6(buf: Buffer, file: string, orgs: OrgTable): V6Table {
  const capacity = rowCount(buf);
  const t: V6Table = {
    starts: new BigUint64Array(capacity),
    ends: new BigUint64Array(capacity),
    asns: new Uint32Array(capacity),
    orgs: new Uint32Array(capacity),
    length: 0,
    clipped: 0,
  };
  const cur = new Cursor(buf, file);
  let prevStart = -1n;
  let prevEnd = -1n;
  while (cur.next()) {
    let start = cur.high64();
    const end = cur.high64();
    const asn = cur.uint();
    const org = cur.org();
    if (start < prevStart || end < start) cur.fail("ranges are not sorted");
    prevStart = start;
    // Truncated neighbours often share a /64; clipping keeps the ranges disjoint as in parseV4.
    if (start <= prevEnd) {
      t.clipped++;
      if (end <= prevEnd) continue;
      start = prevEnd + 1n;
    }
    prevEnd = end;
    const i = t.length++;
    t.starts[i] = start;
    t.ends[i] = end;
    t.asns[i] = asn;
    t.orgs[i] = orgs.id(org);
  }
  return t;
}

function ipv4Number(ip: string): number {
  const [a = 0, b = 0, c = 0, d = 0] = ipaddr.IPv4.parse(ip).octets;
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function ipv6High64(ip: string): bigint {
  const [p0 = 0, p1 = 0, p2 = 0, p3 = 0] = ipaddr.IPv6.parse(ip).parts;
  return (BigInt(((p0 << 16) | p1) >>> 0) << 32n) | BigInt(((p2 << 16) | p3) >>> 0);
}

function defaultDir(): string {
  return dirname(createRequire(import.meta.url).resolve("@ip-location-db/asn/package.json"));
}

/** Loads the RouteViews/NRO/DB-IP IP→ASN tables of `@ip-location-db/asn`, or the same files from `dir`. */
export async function loadAsnDb(dir: string = defaultDir()): Promise<AsnDb> {
  const v4File = join(dir, "asn-ipv4-num.csv");
  const v6File = join(dir, "asn-ipv6-num.csv");
  const [v4Buf, v6Buf] = await Promise.all([readFile(v4File), readFile(v6File)]);
  const orgs = new OrgTable();
  const v4 = parseV4(v4Buf, v4File, orgs);
  const v6 = parseV6(v6Buf, v6File, orgs);
  const names = orgs.names;

  function hit(asns: Uint32Array, orgIds: Uint32Array, i: number): AsnInfo {
    return { asn: asns[i]!, org: names[orgIds[i]!]! };
  }

  return {
    ranges: { ipv4: v4.length, ipv6: v6.length },
    clipped: { ipv4: v4.clipped, ipv6: v6.clipped },
    lookup(ip) {
      if (ip.version === 4) {
        const n = ipv4Number(ip.ip);
        const i = floorIndex(v4.starts, n, v4.length);
        return i >= 0 && n <= v4.ends[i]! ? hit(v4.asns, v4.orgs, i) : null;
      }
      const n = ipv6High64(ip.ip);
      const i = floorIndex(v6.starts, n, v6.length);
      return i >= 0 && n <= v6.ends[i]! ? hit(v6.asns, v6.orgs, i) : null;
    },
  };
}
