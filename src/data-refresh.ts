/**
 * `npm run data:refresh -- <files…>`: checks IP data files the user downloaded and installs them into
 * TETHER_ENRICHMENT_DIR, where the server prefers them over the data shipped in node_modules. The server
 * stays offline; this command never fetches anything. See docs/enrichment.md, "Refreshing the data".
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { systemClock } from "./clock.ts";
import { DATASET_FILES, DataRefreshError, installDatasets } from "./enrichment-data.ts";
import { ConfigError, parseEnv } from "./env.ts";

const USAGE = `usage: npm run data:refresh -- [options] <files…>

Checks downloaded IP data and installs it for the next start of the server.
Files are recognised by name; a data set's files come together:
  geo            ${DATASET_FILES.geo.join(" ")}
  asn            ${DATASET_FILES.asn.join(" ")}
  network-types  ${DATASET_FILES["network-types"].join(" ")}   (columns asn,type,name)

options:
  --dir DIR          where to install (default: TETHER_ENRICHMENT_DIR, ./.tether-enrichment)
  --built-at DATE    when the CSV data was built (YYYY-MM-DD); default: the files' modification time
  --source TEXT      where the files came from, kept in the manifest (e.g. "ip-location-db 2026-11-30")
`;

interface Output {
  write(text: string): unknown;
}

export async function refreshData(
  argv: string[],
  out: Output = process.stdout,
  err: Output = process.stderr,
): Promise<number> {
  const parse = () =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        dir: { type: "string" },
        "built-at": { type: "string" },
        source: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (e) {
    err.write(`data:refresh: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.write(USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    err.write(`data:refresh: no files given\n\n${USAGE}`);
    return 2;
  }
  let builtAt: Date | undefined;
  if (values["built-at"] !== undefined) {
    builtAt = new Date(values["built-at"]);
    if (!/^\d{4}-\d{2}-\d{2}/.test(values["built-at"]) || Number.isNaN(builtAt.getTime())) {
      err.write(
        `data:refresh: --built-at must be a date like 2026-11-30, not ${JSON.stringify(values["built-at"])}\n`,
      );
      return 2;
    }
  }
  let dir: string;
  try {
    dir = values.dir ?? parseEnv().TETHER_ENRICHMENT_DIR;
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`data:refresh: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  try {
    const installed = await installDatasets({
      files: positionals,
      dir,
      builtAt,
      source: values.source,
      now: systemClock.now(),
    });
    for (const i of installed) {
      out.write(`installed ${i.dataset}: ${i.summary}, built ${i.entry.built_at} (${i.entry.source})\n`);
    }
    out.write(`into ${resolve(dir)}; restart the server to use it.\n`);
    return 0;
  } catch (e) {
    if (e instanceof DataRefreshError) {
      err.write(`data:refresh: ${e.message}\nnothing was installed.\n`);
      return 1;
    }
    throw e;
  }
}

if (process.argv[1]?.endsWith("data-refresh.ts")) {
  process.exitCode = await refreshData(process.argv.slice(2));
}
