import { distance } from "fastest-levenshtein";
import { iso31662 } from "iso-3166";
import englishNames from "./region-names.en.json" with { type: "json" };

/**
 * Words that name the kind of subdivision rather than which one: "Osaka Prefecture" and "Ōsaka", "Moscow
 * Oblast" and "Moskovskaya oblast'", "Comunidad de Madrid" and "Madrid, Comunidad de" keep what tells them
 * apart once these go.
 */
const KIND_WORDS = new Set([
  "autonomous",
  "autonome",
  "autonoma",
  "canton",
  "city",
  "ciudad",
  "comunidad",
  "county",
  "de",
  "del",
  "department",
  "departement",
  "district",
  "do",
  "emirate",
  "federal",
  "governorate",
  "ken",
  "fu",
  "to",
  "lan",
  "sheng",
  "zizhiqu",
  "fylke",
  "krai",
  "kray",
  "metropolitan",
  "municipality",
  "oblast",
  "of",
  "okrug",
  "parish",
  "prefecture",
  "province",
  "provincia",
  "region",
  "regione",
  "republic",
  "respublika",
  "shi",
  "special",
  "administrative",
  "state",
  "teukbyeolsi",
  "gwangyeoksi",
  "territory",
  "the",
  "voivodeship",
  "wojewodztwo",
]);

/** Lower case, no diacritics, punctuation as spaces: "Île-de-France" → "ile de france". */
export function normaliseName(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/['’ʼ`]/g, "")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** The normalised name without kind words; the whole name when nothing else is left. */
function coreOf(normalised: string): string {
  const rest = normalised.split(" ").filter((w) => !KIND_WORDS.has(w));
  return rest.length > 0 ? rest.join(" ") : normalised;
}

/** The spellings one ISO name stands for: "Madrid, Comunidad de", "Bolama / Bijagós", "Sofia (stolitsa)". */
function spellings(name: string): string[] {
  const out = [name];
  const bare = name.replace(/\s*\([^)]*\)\s*/g, " ").trim();
  if (bare !== name) out.push(bare);
  for (const part of bare.split("/")) out.push(part);
  const comma = /^([^,]+),\s*(.+)$/.exec(bare);
  if (comma) out.push(`${comma[2]} ${comma[1]}`, comma[1]!);
  return out;
}

type Index = Map<string, Map<string, string | null>>;

/** null marks a key that two subdivisions of one country share: it maps to neither. */
function add(index: Index, country: string, key: string, code: string) {
  if (!key) return;
  let names = index.get(country);
  if (!names) {
    names = new Map();
    index.set(country, names);
  }
  const seen = names.get(key);
  if (seen === undefined) names.set(key, code);
  else if (seen !== code) names.set(key, null);
}

export interface RegionCodes {
  /** ISO 3166-2 code ("US-CA") of a subdivision named in English or its own language; null if none or several */
  code(country: string, name: string): string | null;
}

/** The vendored English names (`npm run data:regions`, from iso3166-2-db) as `[country, name, code]`. */
function vendoredNames(): Array<readonly [string, string, string]> {
  const names = englishNames.names as Record<string, Record<string, string>>;
  return Object.entries(names).flatMap(([country, byName]) =>
    Object.entries(byName).map(([name, code]) => [country, name, `${country}-${code}`] as const),
  );
}

/**
 * Maps subdivision names to first-level ISO 3166-2 codes from wooorm's `iso-3166` list: exact names, then
 * without kind words, then without spaces, then the nearest spelling (docs/enrichment.md, "Regions").
 * First-level subdivisions win over lower ones with the same name, and a lower one answers with the
 * first-level one it belongs to. The vendored English names (region-names.en.json) count as ISO's own
 * unless `englishNames` is false; `aliases` adds names from another list, `[country, name, code]`, where
 * neither has the name (country-region-data still has Iran's codes from before 2018). Either is kept only
 * when its code is in the ISO list, and a name that two codes claim maps to neither.
 * `nearest: false` answers exact names only, without the nearest-spelling guess.
 */
export function createRegionCodes(
  aliases: Iterable<readonly [string, string, string]> = [],
  options: { englishNames?: boolean; nearest?: boolean } = {},
): RegionCodes {
  const top: Index = new Map();
  const lower: Index = new Map();
  const parents = new Map<string, string>();
  const isTop = new Map<string, boolean>();
  const compact = new Map<string, Array<{ key: string; code: string }>>();
  /** Keys ISO's and the vendored English names set: another list's aliases fill gaps, never override them. */
  const primary = new Set<string>();
  const addName = (country: string, name: string, code: string, alias = false) => {
    const index = isTop.get(code) ? top : lower;
    const n = normaliseName(name);
    const list = compact.get(country) ?? [];
    list.push({ key: coreOf(n).replaceAll(" ", ""), code });
    compact.set(country, list);
    for (const key of [n, `~${coreOf(n)}`, `_${coreOf(n).replaceAll(" ", "")}`]) {
      if (alias && primary.has(`${country}|${key}`)) continue;
      if (!alias) primary.add(`${country}|${key}`);
      add(index, country, key, code);
    }
  };
  for (const { code, parent } of iso31662) {
    parents.set(code, parent);
    isTop.set(code, parent === code.slice(0, 2));
  }
  /** A lower subdivision answers with the first-level one it belongs to: "Valencia" (ES-V) is in ES-VC. */
  const firstLevel = (code: string) => {
    let c = code;
    for (let up = parents.get(c); up && up.length > 2 && parents.has(up); up = parents.get(c)) c = up;
    return c;
  };
  for (const { code, name } of iso31662) {
    for (const spelling of spellings(name)) addName(code.slice(0, 2), spelling, code);
  }
  if (options.englishNames !== false) {
    for (const [country, name, code] of vendoredNames()) if (isTop.has(code)) addName(country, name, code);
  }
  for (const [country, name, code] of aliases) if (isTop.has(code)) addName(country, name, code, true);
  /**
   * English exonyms are often a letter or two off the local name ("Hesse" and "Hessen", "Lombardy" and
   * "Lombardia"): the one name within a quarter of the length in edits, when no other subdivision is as
   * close. Names of four letters or fewer must match exactly.
   */
  const nearest = (country: string, key: string): string | null => {
    const max = Math.floor(key.length / 4);
    if (max === 0) return null;
    let best = max + 1;
    let found: string | null = null;
    for (const c of compact.get(country) ?? []) {
      const allowed = Math.min(max, Math.floor(c.key.length / 4));
      // lengths further apart than that cannot be within it: skip the distance
      if (Math.abs(key.length - c.key.length) > allowed) continue;
      const d = distance(key, c.key);
      if (d > allowed) continue;
      const code = firstLevel(c.code);
      if (d < best) {
        best = d;
        found = code;
      } else if (d === best && found !== code) {
        found = null;
      }
    }
    return found;
  };
  return {
    code(country, name) {
      const n = normaliseName(name);
      if (!n) return null;
      const core = coreOf(n);
      for (const key of [n, `~${core}`, `_${core.replaceAll(" ", "")}`]) {
        for (const index of [top, lower]) {
          const hit = index.get(country)?.get(key);
          if (hit !== undefined) return hit && firstLevel(hit);
        }
      }
      return options.nearest === false ? null : nearest(country, core.replaceAll(" ", ""));
    },
  };
}
