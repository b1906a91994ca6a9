#!/usr/bin/env node
// tether runs its TypeScript sources directly through tsx: no build step between a checkout and `npm start`.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli.ts");
process.exitCode = await main(process.argv.slice(2));
