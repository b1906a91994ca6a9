import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerProcess } from "../../src/server-process.ts";
import { BIN, freePort, startServerProcess } from "../support/server.ts";

/** `tether …` as its own process; resolves with its exit code and output. */
function tether(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, DATABASE_URL: "", TETHER_LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The pid of a process that has already exited: what a lock left by kill -9 holds. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((r) => child.on("exit", r));
  return child.pid!;
}

const ADMIN = "one-owner-admin-token-0123456789";

describe("one owner per embedded data dir", () => {
  let dir: string;
  let server: ServerProcess & { url: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tether-owner-"));
    server = await startServerProcess({ TETHER_DATA_DIR: dir, TETHER_BOOTSTRAP_TOKEN: ADMIN });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("holds a lock file with the server's pid", async () => {
    expect((await readFile(join(dir, "tether.lock"), "utf8")).trim()).toBe(String(server.child.pid));
  });

  it("refuses a second serve on the same data dir and says who owns it", async () => {
    const second = await tether(["serve"], { TETHER_DATA_DIR: dir, PORT: String(await freePort()) });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`in use by another tether process (pid ${server.child.pid})`);
    expect(second.stderr).toContain("TETHER_DATA_DIR");
    expect(second.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it("refuses CLI writes while the server runs, says what to do, and prints no token", async () => {
    for (const args of [
      ["token", "create", "--role", "admin"],
      ["workspace", "create", "acme"],
    ]) {
      const cli = await tether(args, { TETHER_DATA_DIR: dir });
      expect(cli.code, args.join(" ")).toBe(1);
      expect(cli.stdout).toBe("");
      expect(cli.stderr).toContain(`pid ${server.child.pid}`);
      expect(cli.stderr).toContain("stop the server first");
      expect(cli.stderr).toContain("POST /v1/tokens");
    }
    // the server is untouched and still answers
    const res = await fetch(`${server.url}/v1/whoami`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
  }, 60_000);

  it("takes over a lock left by a process that died, and the token it prints works", async () => {
    const other = await mkdtemp(join(tmpdir(), "tether-owner-"));
    try {
      await writeFile(join(other, "tether.lock"), `${await deadPid()}\n`);
      const cli = await tether(["workspace", "create", "acme"], { TETHER_DATA_DIR: other });
      expect(cli.code, cli.stderr).toBe(0);
      const token = cli.stdout.trim();
      expect(token.length).toBeGreaterThan(16);
      // released on exit
      expect(existsSync(join(other, "tether.lock"))).toBe(false);
      const next = await startServerProcess({ TETHER_DATA_DIR: other });
      try {
        const res = await fetch(`${next.url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { workspace: { slug: string } }).workspace.slug).toBe("acme");
      } finally {
        await next.stop();
      }
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  }, 120_000);
});
