import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BIN, freePort } from "../support/server.ts";

describe("starting with the database away", () => {
  it("retries for TETHER_DB_WAIT_SECONDS, then exits with one clear line instead of a stack trace", async () => {
    // nothing listens on a port just found free
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, "serve"], {
      env: {
        ...process.env,
        DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/tether`,
        TETHER_DB_WAIT_SECONDS: "2",
        PORT: String(await freePort()),
        TETHER_LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    child.stderr.on("data", (c) => {
      out += c;
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(1);
    expect(out).toContain("database unreachable (ECONNREFUSED); retrying for up to 2 s");
    expect(out).toContain("tether: cannot reach the database (ECONNREFUSED) after 2 s");
    expect(out).not.toMatch(/\n\s+at /);
  }, 60_000);
});
