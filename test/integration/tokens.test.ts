import { createHash, createHmac } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import pino from "pino";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { bootstrap } from "../../src/bootstrap.ts";
import { ManualClock } from "../../src/clock.ts";
import { defaultEnv } from "../../src/env.ts";
import { createMetrics } from "../../src/metrics.ts";
import { type Database, MIGRATIONS_DIR, openPglite, openPostgres, rows } from "../../src/store/db.ts";
import { loadPepper, pepperOf } from "../../src/store/tenancy.ts";
import { client } from "../support/api.ts";
import { newWorkspace, uid } from "../support/factories.ts";
import { sharedEnricher, useTestApp } from "../support/harness.ts";
import { scratchPostgres } from "../support/server.ts";

const t = useTestApp();
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

interface TokenRow {
  id: string;
  secret_hash: string;
  pepper_id: string | null;
}

async function tokenRow(database: Database, id: string): Promise<TokenRow & Record<string, unknown>> {
  const [row] = await rows<TokenRow & Record<string, unknown>>(
    database.db,
    sql`select * from tokens where id = ${id}`,
  );
  return row!;
}

function appOn(database: Database, overrides: Parameters<typeof defaultEnv>[0] = {}) {
  return (async () =>
    createApp({
      database,
      env: defaultEnv(overrides),
      clock: new ManualClock("2026-01-20T00:00:00Z"),
      logger: pino({ level: "silent" }),
      enricher: await sharedEnricher(),
      metrics: createMetrics(),
    }))();
}

describe("tokens", () => {
  it("refuses to revoke a workspace's last admin token, and allows it once another exists", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const mine = (await api.get("/v1/whoami", ws.admin)).body.token_id;
    const refused = await api.del(`/v1/tokens/${mine}`, ws.admin);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("conflict");
    expect((await api.get("/v1/whoami", ws.admin)).status).toBe(200);

    const second = await api.post("/v1/tokens", ws.admin, { name: uid("admin-"), role: "admin" });
    expect(second.status).toBe(201);
    expect((await api.del(`/v1/tokens/${mine}`, ws.admin)).status).toBe(200);
    expect((await api.get("/v1/whoami", ws.admin)).status).toBe(401);
    expect((await api.get("/v1/whoami", second.body.token)).body.role).toBe("admin");
  });

  it("shows a token's id, and no character of its secret, in the list", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const issued = await api.post("/v1/tokens", ws.admin, { name: uid("viewer-"), role: "viewer" });
    expect(issued.status).toBe(201);
    const secret: string = issued.body.token;
    // The secret carries its token's public id, then the random part.
    expect(secret).toBe(`ttu_${issued.body.id.slice(4)}_${secret.slice(-32)}`);
    const listed = await api.get("/v1/tokens", ws.admin);
    const shown = listed.body.tokens.find((x: { id: string }) => x.id === issued.body.id);
    expect(shown).toEqual({
      id: issued.body.id,
      name: issued.body.name,
      kind: "user",
      role: "viewer",
      environment_id: null,
      created_at: expect.any(String),
      last_used_at: null,
      revoked_at: null,
    });
    const random = secret.slice(-32);
    const text = JSON.stringify(listed.body);
    for (let i = 0; i + 4 <= random.length; i++) expect(text).not.toContain(random.slice(i, i + 4));
  });

  it("stores a keyed hash of the secret, not its SHA-256 nor any of its characters", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const issued = await api.post("/v1/tokens", ws.admin, { name: uid("kept-"), role: "viewer" });
    const row = await tokenRow(t.database, issued.body.id);
    const pepper = await loadPepper(t.database.db, undefined);
    expect(row.secret_hash).not.toBe(sha256(issued.body.token));
    expect(row.secret_hash).toBe(
      createHmac("sha256", pepper.key).update(sha256(issued.body.token)).digest("hex"),
    );
    expect(row.pepper_id).toBe(pepper.id);
    expect(Object.keys(row)).not.toContain("prefix");
    expect(JSON.stringify(row)).not.toContain(issued.body.token.slice(-32, -24));
  });

  it("answers 401 to a token's id with a wrong secret, and to a secret one character off", async () => {
    const api = client(t.app);
    const ws = await newWorkspace(t.database);
    const issued = await api.post("/v1/tokens", ws.admin, { name: uid("near-"), role: "viewer" });
    const secret: string = issued.body.token;
    const last = secret.at(-1) === "A" ? "B" : "A";
    expect((await api.get("/v1/whoami", `${secret.slice(0, -1)}${last}`)).status).toBe(401);
    expect((await api.get("/v1/whoami", `${secret.slice(0, -32)}${"x".repeat(32)}`)).status).toBe(401);
    expect((await api.get("/v1/whoami", secret)).body.token_id).toBe(issued.body.id);
  });

  it("hashes under TETHER_TOKEN_PEPPER when set, and refuses to start under another pepper", async () => {
    const database = await openPglite();
    try {
      await database.migrate();
      const pepper = "a-pepper-of-at-least-thirty-two-characters";
      const chosen = "bootstrap-secret-1234";
      const now = new Date("2026-01-20T00:00:00Z");
      expect(await bootstrap(database.db, chosen, now, pepper)).toEqual({ secret: chosen, generated: false });
      const [row] = await rows<TokenRow>(database.db, sql`select * from tokens`);
      expect(row!.pepper_id).toBe(pepperOf(pepper).id);
      const app = await appOn(database, { TETHER_TOKEN_PEPPER: pepper });
      expect((await client(app).get("/v1/whoami", chosen)).body.role).toBe("admin");
      await expect(bootstrap(database.db, undefined, now, `${pepper}-changed`)).rejects.toThrow(
        /1 live token\(s\) were hashed under another token pepper/,
      );
    } finally {
      await database.close();
    }
  });
});

/** A database migrated up to, not including, migration `stop` (e.g. "0006"). */
async function migrateUpTo(database: Database, url: string | null, stop: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "tether-migrations-"));
  try {
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    const journalFile = join(dir, "meta", "_journal.json");
    const journal = JSON.parse(await readFile(journalFile, "utf8"));
    journal.entries = journal.entries.filter((e: { tag: string }) => e.tag < stop);
    await writeFile(journalFile, JSON.stringify(journal));
    if (url) {
      const conn = postgres(url, { max: 1, onnotice: () => {} });
      await migratePostgres(drizzlePostgres(conn), { migrationsFolder: dir });
      await conn.end();
    } else {
      const pg = (database.db as unknown as { $client: Parameters<typeof drizzlePglite>[0] }).$client;
      await migratePglite(drizzlePglite(pg as never), { migrationsFolder: dir });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("tokens issued before the keyed hash", () => {
  it("keep working after migration 0006 and the next start, re-keyed and without their prefix", async () => {
    const scratch = await scratchPostgres();
    const database = scratch ? openPostgres(scratch.url, { max: 2 }) : await openPglite();
    try {
      await migrateUpTo(database, scratch?.url ?? null, "0006");
      // What the code before 0006 stored for a user-chosen bootstrap secret and for an issued agent secret.
      const chosen = "old-bootstrap-token-1";
      const issued = "tta_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0";
      await database.db.execute(
        sql`insert into workspaces (id, slug, name) values ('ws_01jold00000000000000000000', 'default', 'Default')`,
      );
      await database.db.execute(sql`
        insert into tokens (id, workspace_id, kind, role, name, secret_hash, prefix, created_at)
        values ('tok_01jold00000000000000000001', 'ws_01jold00000000000000000000', 'user', 'admin', 'bootstrap admin',
                ${sha256(chosen)}, ${chosen.slice(0, 8)}, now()),
               ('tok_01jold00000000000000000002', 'ws_01jold00000000000000000000', 'agent', 'agent', 'agent:old',
                ${sha256(issued)}, ${issued.slice(0, 8)}, now())`);

      await database.migrate();
      const app = await appOn(database);
      // Before the start re-keys them, the plain hashes authenticate nothing.
      expect((await client(app).get("/v1/whoami", chosen)).status).toBe(401);
      expect(await bootstrap(database.db, undefined, new Date())).toBeNull();

      const fresh = await appOn(database);
      const api = client(fresh);
      expect((await api.get("/v1/whoami", chosen)).body).toMatchObject({ role: "admin" });
      expect((await api.get("/v1/whoami", issued)).body).toMatchObject({ role: "agent" });
      const pepper = await loadPepper(database.db, undefined);
      const kept = await rows<TokenRow & Record<string, unknown>>(
        database.db,
        sql`select * from tokens order by id`,
      );
      expect(kept.map((r) => r.pepper_id)).toEqual([pepper.id, pepper.id]);
      expect(kept[0]!.secret_hash).toBe(
        createHmac("sha256", pepper.key).update(sha256(chosen)).digest("hex"),
      );
      expect(Object.keys(kept[0]!)).not.toContain("prefix");
      // A second start leaves them as they are.
      expect(await bootstrap(database.db, undefined, new Date())).toBeNull();
      expect((await api.get("/v1/whoami", chosen)).status).toBe(200);
    } finally {
      await database.close();
      await scratch?.drop();
    }
  });
});
