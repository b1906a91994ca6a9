#!/usr/bin/env node
// The workstation agent: its TypeScript runs through tsx like the server's, but it imports none of the
// server's modules, so it starts without loading hono, drizzle, PGlite or the geo databases.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../agents/node/cli.ts");
process.exitCode = await main(process.argv.slice(2));
