#!/usr/bin/env node
// The workstation agent: its TypeScript runs through tsx like the server's, but it imports none of the
// server's modules, so it starts without loading hono, drizzle, PGlite or the geo databases.
import { readFileSync } from "node:fs";

// The version needs no compiler: answered before tsx is loaded.
if (process.argv[2] === "--version" || process.argv[2] === "-v") {
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  process.stdout.write(`tether-agent ${version}\n`);
  process.exit(0);
}
const { register } = await import("tsx/esm/api");
register();
const { main } = await import("../agents/node/cli.ts");
process.exitCode = await main(process.argv.slice(2));
