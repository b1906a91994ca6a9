import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import postgres from "postgres";
import { type ServerProcess, startServerProcess as start } from "../../src/server-process.ts";

export { BIN } from "../../src/server-process.ts";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Runs `tether serve` as its own process on a free port and waits until it is ready. */
export async function startServerProcess(
  env: Record<string, string>,
): Promise<ServerProcess & { url: string }> {
  const server = await start({ port: await freePort(), env: { TETHER_LOG_LEVEL: "warn", ...env } });
  return Object.assign(server, { url: server.base });
}

/** A PostgreSQL database of its own for one test (dropped by the returned function), or null on PGlite runs. */
export async function scratchPostgres(): Promise<{ url: string; drop(): Promise<void> } | null> {
  const base = process.env.DATABASE_URL;
  if (!base) return null;
  const name = `tether_e2e_${randomBytes(4).toString("hex")}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}
