import { createHash, randomBytes } from "node:crypto";
import { copyFile, mkdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { loadAsnDb } from "./core/enrich/asn.ts";
import { GEO_FILES, loadGeoDb } from "./core/enrich/geo.ts";
import { createEnricher, type Enricher } from "./core/enrich/index.ts";
import { NETWORK_TYPES, parseNetworkTypes } from "./core/enrich/network-types.ts";

/**
 * The enrichment data directory (TETHER_ENRICHMENT_DIR): data sets the user downloaded and
 * `npm run data:refresh` checked and installed, one folder per data set, described by `manifest.json`.
 * An installed data set wins over the one shipped in node_modules.
 */

export const DATASET_FILES = {
  geo: GEO_FILES,
  asn: ["asn-ipv4-num.csv", "asn-ipv6-num.csv"],
  "network-types": ["network-types.csv"],
} as const;
export type DatasetName = keyof typeof DATASET_FILES;
export type DatasetFile = (typeof DATASET_FILES)[DatasetName][number];

export interface ManifestEntry {
  /** where the files came from, as the user said or the files tell */
  source: string;
  /** when the data was built (ISO 8601); for CSVs, the given --built-at or the newest file's mtime */
  built_at: string;
  installed_at: string;
  files: Array<{ name: string; sha256: string; bytes: number }>;
}

export interface Manifest {
  datasets: Partial<Record<DatasetName, ManifestEntry>>;
}

const MANIFEST = "manifest.json";

export class DataRefreshError extends Error {}

export async function readManifest(dir: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { datasets: {} };
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Manifest;
    if (typeof parsed?.datasets !== "object" || parsed.datasets === null) throw new Error("no datasets");
    return parsed;
  } catch (err) {
    throw new DataRefreshError(
      `${join(dir, MANIFEST)} is not a tether data manifest (${(err as Error).message})`,
    );
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** The data set a file belongs to, by its name; undefined for a name no data set has. */
const datasetOf = (file: string): DatasetName | undefined =>
  (Object.keys(DATASET_FILES) as DatasetName[]).find((n) =>
    (DATASET_FILES[n] as readonly string[]).includes(file),
  );

/** The folder of an installed data set and its manifest entry; null when none is installed (or it is incomplete). */
export async function installedDataset(
  dir: string,
  name: DatasetName,
  manifest?: Manifest,
): Promise<{ dir: string; entry: ManifestEntry } | null> {
  const entry = (manifest ?? (await readManifest(dir))).datasets[name];
  if (!entry) return null;
  const folder = resolve(dir, name);
  for (const file of DATASET_FILES[name]) if (!(await exists(join(folder, file)))) return null;
  return { dir: folder, entry };
}

/** The installed path of one data set file (e.g. "network-types.csv"), or null when it is not installed. */
export async function installedFile(
  dir: string,
  file: DatasetFile,
  manifest?: Manifest,
): Promise<string | null> {
  const name = datasetOf(file);
  if (!name) return null;
  const installed = await installedDataset(dir, name, manifest);
  return installed ? join(installed.dir, file) : null;
}

export interface RefreshInput {
  /** files the user downloaded; each must be named as in DATASET_FILES */
  files: string[];
  /** the data directory (TETHER_ENRICHMENT_DIR) */
  dir: string;
  /** build date of the CSV data sets, which carry none; default: the newest file's modification time */
  builtAt?: Date;
  /** recorded in the manifest, e.g. "ip-location-db release 2026-11-30" */
  source?: string;
  now: Date;
}

export interface Installed {
  dataset: DatasetName;
  entry: ManifestEntry;
  /** what the check found, for the user: "412,000 IPv4 + 103,000 IPv6 ranges" */
  summary: string;
}

/** Which data set each file belongs to; every data set named must be given whole. */
function groupFiles(files: string[]): Map<DatasetName, Map<string, string>> {
  const groups = new Map<DatasetName, Map<string, string>>();
  for (const path of files) {
    const file = basename(path);
    const name = datasetOf(file);
    if (!name) {
      const known = Object.values(DATASET_FILES).flat().join(", ");
      throw new DataRefreshError(`${path}: unknown file name; expected one of ${known}`);
    }
    const group = groups.get(name) ?? new Map<string, string>();
    if (group.has(file)) throw new DataRefreshError(`${file} is given twice`);
    group.set(file, path);
    groups.set(name, group);
  }
  for (const [name, group] of groups) {
    const missing = DATASET_FILES[name].filter((f) => !group.has(f));
    if (missing.length > 0) {
      throw new DataRefreshError(`the ${name} data set needs ${missing.join(" and ")} as well`);
    }
  }
  if (groups.size === 0) throw new DataRefreshError("no files given");
  return groups;
}

async function sha256(file: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(file))
    .digest("hex");
}

const fmt = (n: number) => n.toLocaleString("en-US");

/** Opens a staged data set the way the server will, and says what it holds. */
async function check(
  name: DatasetName,
  dir: string,
  input: RefreshInput,
): Promise<{ builtAt: Date; source: string; summary: string }> {
  const mtime = async () =>
    new Date(
      Math.max(
        ...(await Promise.all(DATASET_FILES[name].map((f) => stat(join(dir, f))))).map((s) => s.mtimeMs),
      ),
    );
  switch (name) {
    case "geo": {
      const geo = await loadGeoDb(dir).catch((err: Error) => {
        throw new DataRefreshError(err.message);
      });
      // A city database that cannot place a major resolver's address is not the data it claims to be.
      const probe = geo.lookup("8.8.8.8") ?? geo.lookup("2001:4860:4860::8888");
      if (!probe?.country)
        throw new DataRefreshError("the geo data has no country for 8.8.8.8: wrong or empty files");
      return {
        builtAt: geo.builtAt,
        source: input.source ?? "GeoLite2 City (ip-location-db mmdb)",
        summary: "IPv4 and IPv6 city databases",
      };
    }
    case "asn": {
      const asn = await loadAsnDb(dir).catch((err: Error) => {
        throw new DataRefreshError(err.message);
      });
      if (asn.ranges.ipv4 === 0 || asn.ranges.ipv6 === 0)
        throw new DataRefreshError("the ASN files have no rows");
      return {
        builtAt: input.builtAt ?? (await mtime()),
        source: input.source ?? "ip-location-db asn (CSV)",
        summary: `${fmt(asn.ranges.ipv4)} IPv4 + ${fmt(asn.ranges.ipv6)} IPv6 ranges`,
      };
    }
    case "network-types": {
      const file = join(dir, "network-types.csv");
      // the classifier's own parser: what passes here loads at start-up
      const types = [...parseNetworkTypes(await readFile(file, "utf8"), file).values()];
      if (types.length === 0) throw new DataRefreshError(`${file}: no rows`);
      const byType = NETWORK_TYPES.map((t) => `${fmt(types.filter((x) => x === t).length)} ${t}`);
      return {
        builtAt: input.builtAt ?? (await mtime()),
        source: input.source ?? "network-types.csv",
        summary: `${fmt(types.length)} AS numbers (${byType.join(", ")})`,
      };
    }
  }
}

/**
 * Checks the given files by loading them as the server would, then installs each data set into
 * `<dir>/<data set>/` and records it in the manifest. Nothing is installed unless every data set given
 * passes; a data set not given keeps what was installed before.
 */
export async function installDatasets(input: RefreshInput): Promise<Installed[]> {
  const groups = groupFiles(input.files);
  await mkdir(input.dir, { recursive: true });
  const manifest = await readManifest(input.dir);
  const staging = join(input.dir, `.staging-${randomBytes(6).toString("hex")}`);
  try {
    const checked: Array<Installed & { staged: string }> = [];
    for (const [name, group] of groups) {
      const staged = join(staging, name);
      await mkdir(staged, { recursive: true });
      for (const [file, from] of group) {
        await copyFile(from, join(staged, file)).catch((err: NodeJS.ErrnoException) => {
          throw new DataRefreshError(`${from}: ${err.code === "ENOENT" ? "no such file" : err.message}`);
        });
        // keep the download's time: it dates CSV data when no --built-at is given
        const { atime, mtime } = await stat(from);
        await utimes(join(staged, file), atime, mtime);
      }
      const found = await check(name, staged, input).catch((err: Error) => {
        // name the file as the user knows it, not its staged copy
        throw new DataRefreshError(err.message.replaceAll(`${staged}/`, ""));
      });
      const files = await Promise.all(
        DATASET_FILES[name].map(async (f) => ({
          name: f,
          sha256: await sha256(join(staged, f)),
          bytes: (await stat(join(staged, f))).size,
        })),
      );
      const entry: ManifestEntry = {
        source: found.source,
        built_at: found.builtAt.toISOString(),
        installed_at: input.now.toISOString(),
        files,
      };
      checked.push({ dataset: name, entry, summary: found.summary, staged });
    }
    for (const c of checked) {
      const target = join(input.dir, c.dataset);
      const old = `${target}.old-${randomBytes(6).toString("hex")}`;
      await rename(target, old).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
      });
      await rename(c.staged, target);
      await rm(old, { recursive: true, force: true });
      manifest.datasets[c.dataset] = c.entry;
    }
    const tmp = join(input.dir, `${MANIFEST}.${randomBytes(6).toString("hex")}`);
    await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(tmp, join(input.dir, MANIFEST));
    return checked.map(({ staged: _, ...rest }) => rest);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * The server's enricher: data sets installed in `dir` by `npm run data:refresh` win over the packaged ones.
 * Call once at start-up and share it.
 */
export async function loadEnricher(dir: string): Promise<Enricher> {
  const manifest = await readManifest(dir);
  const [geo, asn, networkTypes] = await Promise.all([
    installedDataset(dir, "geo", manifest),
    installedDataset(dir, "asn", manifest),
    installedFile(dir, "network-types.csv", manifest),
  ]);
  return createEnricher({
    geo: geo ? { dir: geo.dir, source: geo.entry.source } : undefined,
    asn: asn ? { dir: asn.dir, source: asn.entry.source, builtAt: new Date(asn.entry.built_at) } : undefined,
    networkTypes: networkTypes ?? undefined,
  });
}
