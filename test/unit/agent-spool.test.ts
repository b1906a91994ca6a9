import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { EventBody } from "../../agents/node/client.ts";
import { Spool, SpoolFull } from "../../agents/node/spool.ts";

const event = (id: string, type: EventBody["type"] = "login"): EventBody =>
  ({
    id,
    type,
    occurred_at: "2026-01-25T17:32:05Z",
    ...(type === "heartbeat" ? {} : { account: { platform: "amazon", ref: "de-01" } }),
    ...(type === "operation" ? { operation: "inventory_sync" } : {}),
  }) as EventBody;

const spoolDir = () => mkdtemp(join(tmpdir(), "tether-spool-"));

describe("the agent's spool", () => {
  it("keeps events until they are acknowledged and compacts them away after", async () => {
    const spool = new Spool(await spoolDir());
    for (const id of ["a", "b", "c"]) await spool.append(event(id));
    expect(spool.pending(2).map((e) => e.id)).toEqual(["a", "b"]);
    spool.ack(["a", "b"]);
    expect(spool.pending().map((e) => e.id)).toEqual(["c"]);
    await spool.compact();
    expect(readFileSync(spool.journal, "utf8").trim().split("\n")).toHaveLength(1);
    expect(readFileSync(spool.ackedPath, "utf8")).toBe("");
    expect(spool.stats()).toMatchObject({ pending: 1, corrupt: 0 });
  });

  it("loses only the torn line a killed writer left, and the next append starts a fresh line", async () => {
    const spool = new Spool(await spoolDir());
    await spool.append(event("a"));
    writeFileSync(spool.journal, `${readFileSync(spool.journal, "utf8")}{"id":"torn","ty`);
    expect(spool.pending().map((e) => e.id)).toEqual(["a"]);
    await spool.append(event("b"));
    expect(spool.pending().map((e) => e.id)).toEqual(["a", "b"]);
    expect(spool.stats().corrupt).toBe(1);
  });

  it("drops the oldest heartbeats when full, never logins or operations, and then refuses loudly", async () => {
    const bytes = (e: EventBody) => Buffer.byteLength(`${JSON.stringify(e)}\n`);
    const first = [
      event("h0001", "heartbeat"),
      event("h0002", "heartbeat"),
      event("l0001"),
      event("o0001", "operation"),
    ];
    const spool = new Spool(await spoolDir(), first.reduce((n, e) => n + bytes(e), 0) + 10);
    for (const e of first) expect((await spool.append(e)).droppedHeartbeats).toBe(0);
    expect((await spool.append(event("l0002"))).droppedHeartbeats).toBe(2);
    expect(spool.pending().map((e) => e.id)).toEqual(["l0001", "o0001", "l0002"]);
    // a new heartbeat that does not fit is itself the oldest heartbeat there is
    expect((await spool.append(event("h0003", "heartbeat"))).droppedHeartbeats).toBe(1);
    await expect(spool.append(event("o0002", "operation"))).rejects.toBeInstanceOf(SpoolFull);
    expect(spool.pending().map((e) => e.id)).toEqual(["l0001", "o0001", "l0002"]);
  });
});

describe("the agent's imports", () => {
  it("loads nothing of the server at run time: only its own files, the pure core model, the message catalogue, node: modules and its three packages", () => {
    const dir = join(import.meta.dirname, "../../agents/node");
    const allowed =
      /^(\.\/[a-z0-9-]+\.ts|\.\.\/\.\.\/src\/core\/model\.ts|\.\.\/\.\.\/src\/i18n\/index\.ts|node:[a-z_/]+|undici|fetch-socks|proper-lockfile)$/;
    const found: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const text = readFileSync(join(dir, file), "utf8");
      for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gms))
        found.push(m[1]!);
      for (const m of text.matchAll(/import\("([^"]+)"\)/g)) found.push(m[1]!);
    }
    expect(found.length).toBeGreaterThan(10);
    expect(found.filter((spec) => !allowed.test(spec))).toEqual([]);
    // The catalogue is words only: it imports nothing but its own files.
    const catalogue = join(import.meta.dirname, "../../src/i18n");
    for (const file of readdirSync(catalogue)) {
      const text = readFileSync(join(catalogue, file), "utf8");
      for (const m of text.matchAll(/^import\s[^;]*?from\s+"([^"]+)"/gms))
        expect(m[1], file).toMatch(/^\.\/[a-z-]+\.ts$/);
    }
  });
});
