/**
 * Enrichment bench: what the offline IP data costs one process. Loads the geolocation data and then the ASN
 * table, each timed, with the process's RSS after a full GC before and after; then looks up a fixed,
 * seeded mix of public addresses (70 % IPv4 anywhere in unicast space, 30 % IPv6 from networks the ASN table
 * knows) through each, and through `createEnricher()`'s `net()`.
 *
 *   npm run bench:enrich                      # writes bench/results/<date>-enrich-<label>.json
 *   npm run bench:enrich -- --lookups 500000 --label geolite2-city-mmdb
 *
 * Run it alone: the other helpers' work on the same cores moves lookups/s by tens of per cent.
 */

import { readFile, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadAsnDb } from "../src/core/enrich/asn.ts";
import { loadGeoDb } from "../src/core/enrich/geo.ts";
import { createEnricher, parseIp } from "../src/core/enrich/index.ts";
import { mulberry32 } from "../src/prng.ts";
import { fmt, MIB } from "./util.ts";

const { values: args } = parseArgs({
  options: {
    lookups: { type: "string", default: "200000" },
    label: { type: "string" },
    seed: { type: "string", default: "12" },
  },
});
const LOOKUPS = Number(args.lookups);
/** The last measurement with geoip-lite (2023-11 data) as the geo source. */
const BEFORE = "bench/results/2026-12-02-enrich-geoip-lite.json";
if (!Number.isInteger(LOOKUPS) || LOOKUPS < 1000) throw new Error("--lookups must be an integer ≥ 1000");

const gc = globalThis.gc;
if (!gc) throw new Error("run with node --expose-gc (npm run bench:enrich does)");

function settledRss(): number {
  gc!();
  gc!();
  return process.memoryUsage().rss;
}

async function timed<T>(load: () => Promise<T>): Promise<{ value: T; seconds: number; rssAddedMiB: number }> {
  const before = settledRss();
  const start = performance.now();
  const value = await load();
  const seconds = (performance.now() - start) / 1000;
  return { value, seconds, rssAddedMiB: (settledRss() - before) / MIB };
}

const rssStartMiB = settledRss() / MIB;
const geo = await timed(() => loadGeoDb());
const asn = await timed(() => loadAsnDb());
const rssLoadedMiB = settledRss() / MIB;

/** The RIRs' IPv6 blocks (IANA's unicast assignments): random addresses elsewhere in 2000::/3 are unrouted. */
const V6_BLOCKS = [0x2001, 0x2003, 0x2400, 0x2600, 0x2800, 0x2a00, 0x2c00];
const V6_BLOCK_WIDTH = [1, 1, 16, 16, 16, 16, 16];

/** Seeded, so every run (and both data sources) looks up the same addresses. */
function sample(n: number): string[] {
  const random = mulberry32(Number(args.seed));
  const word = () => Math.floor(random() * 0x10000).toString(16);
  const v4: string[] = [];
  const v6: string[] = [];
  const v6Wanted = Math.round(n * 0.3);
  while (v4.length < n - v6Wanted) {
    const ip = [0, 0, 0, 0].map(() => Math.floor(random() * 256)).join(".");
    if (parseIp(ip)?.ipClass === "public") v4.push(ip);
  }
  while (v6.length < v6Wanted) {
    const b = Math.floor(random() * V6_BLOCKS.length);
    const first = V6_BLOCKS[b]! + Math.floor(random() * V6_BLOCK_WIDTH[b]!);
    const ip = `${first.toString(16)}:${Array.from({ length: 7 }, word).join(":")}`;
    const parsed = parseIp(ip);
    // keep addresses of networks that are routed somewhere
    if (parsed?.ipClass === "public" && asn.value.lookup(parsed)) v6.push(ip);
  }
  // interleaved, so neither family's cache effects come in one run
  return v4.flatMap((ip, i) => (i < v6.length ? [ip, v6[i]!] : [ip]));
}

const ips = sample(LOOKUPS);
const parsed = ips.map((ip) => parseIp(ip)!);

function rate(label: string, fn: (i: number) => unknown): { perSecond: number; hits: number } {
  for (let i = 0; i < Math.min(ips.length, 20_000); i++) fn(i); // warm-up
  let hits = 0;
  const start = performance.now();
  for (let i = 0; i < ips.length; i++) if (fn(i)) hits++;
  const perSecond = ips.length / ((performance.now() - start) / 1000);
  console.log(
    `${label.padEnd(28)} ${fmt(perSecond).padStart(10)} lookups/s, ${fmt((100 * hits) / ips.length, 1)} % answered`,
  );
  return { perSecond, hits };
}

console.log(`load geo:  ${fmt(geo.seconds, 2)} s, +${fmt(geo.rssAddedMiB)} MiB RSS`);
console.log(`load asn:  ${fmt(asn.seconds, 2)} s, +${fmt(asn.rssAddedMiB)} MiB RSS`);
console.log(`RSS ${fmt(rssStartMiB)} → ${fmt(rssLoadedMiB)} MiB`);
const v6Share = parsed.filter((p) => p.version === 6).length / parsed.length;
const geoRate = rate("geo.lookup", (i) => geo.value.lookup(ips[i]!));
const located = rate("geo.lookup with coordinates", (i) => geo.value.lookup(ips[i]!)?.lat != null);
const asnRate = rate("asn.lookup", (i) => asn.value.lookup(parsed[i]!));

// The enricher as the server builds it: one more load, so its figures come last
const enricher = await timed(() => createEnricher());
const netRate = rate("createEnricher().net", (i) => enricher.value.net(ips[i]!).country);
console.log(`createEnricher(): ${fmt(enricher.seconds, 2)} s, +${fmt(enricher.rssAddedMiB)} MiB RSS`);
const geoSource = enricher.value.datasets.find((d) => d.dataset === "geo") ?? null;
console.log(
  `geo data: ${geoSource?.source ?? "unnamed"}, built ${geoSource?.builtAt.toISOString() ?? "unknown"}`,
);

const label = args.label ?? "unlabelled";
const result = {
  at: new Date().toISOString(),
  machine: { node: process.version, cpus: cpus().length, memoryMiB: Math.round(totalmem() / MIB) },
  geoSource,
  lookups: ips.length,
  ipv6Share: v6Share,
  load: {
    geo: { seconds: geo.seconds, rssAddedMiB: geo.rssAddedMiB },
    asn: { seconds: asn.seconds, rssAddedMiB: asn.rssAddedMiB },
    enricher: { seconds: enricher.seconds, rssAddedMiB: enricher.rssAddedMiB },
    rssStartMiB,
    rssLoadedMiB,
  },
  perSecond: {
    geo: geoRate.perSecond,
    asn: asnRate.perSecond,
    net: netRate.perSecond,
  },
  answered: {
    geo: geoRate.hits / ips.length,
    geoWithCoordinates: located.hits / ips.length,
    asn: asnRate.hits / ips.length,
  },
};
const file = join("bench/results", `${result.at.slice(0, 10)}-enrich-${label}.json`);
await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`→ ${file}`);

// Before and after the move to the mmdb data: the geoip-lite run recorded when it was still the geo source
// (geoip-lite is no longer installed, so that side is the committed result, not a new measurement).
const before = JSON.parse(await readFile(BEFORE, "utf8")) as typeof result;
const row = (what: string, then: number, now: number, digits = 0) =>
  console.log(`${what.padEnd(30)} ${fmt(then, digits).padStart(10)} ${fmt(now, digits).padStart(10)}`);
console.log(`\n${"".padEnd(30)} ${"geoip-lite".padStart(10)} ${"now".padStart(10)}   (before: ${BEFORE})`);
row("geo load, s", before.load.geo.seconds, result.load.geo.seconds, 2);
row("geo RSS added, MiB", before.load.geo.rssAddedMiB, result.load.geo.rssAddedMiB);
row("RSS with geo + ASN, MiB", before.load.rssLoadedMiB, result.load.rssLoadedMiB);
row("geo lookups/s", before.perSecond.geo, result.perSecond.geo);
row("net() lookups/s", before.perSecond.net, result.perSecond.net);
row("geo answered, %", 100 * before.answered.geo, 100 * result.answered.geo, 1);
