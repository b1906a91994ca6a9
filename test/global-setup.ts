import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { openPglite, openPostgres } from "../src/store/db.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** a PostgreSQL database created and migrated for this run, when DATABASE_URL is set */
    databaseUrl: string | null;
    /** a migrated PGlite data dir (tar) each test file starts its own database from */
    pgliteTemplate: string | null;
  }
}

/**
 * Builds the database every test starts from, once per run, from the committed migrations only:
 * on PostgreSQL a fresh database of its own (so parallel runs never collide), else a PGlite template.
 */
export default async function setup(project: TestProject) {
  const url = process.env.DATABASE_URL;
  if (url) {
    const name = `tether_test_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    const testUrl = new URL(url);
    testUrl.pathname = `/${name}`;
    const database = openPostgres(testUrl.toString(), { max: 1 });
    await database.migrate();
    await database.close();
    project.provide("databaseUrl", testUrl.toString());
    project.provide("pgliteTemplate", null);
    return async () => {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    };
  }
  const dir = await mkdtemp(join(tmpdir(), "tether-test-"));
  const database = await openPglite();
  await database.migrate();
  const dump = await (
    database.db as unknown as { $client: { dumpDataDir(c: "none"): Promise<Blob> } }
  ).$client.dumpDataDir("none");
  await database.close();
  const file = join(dir, "template.tar");
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  project.provide("databaseUrl", null);
  project.provide("pgliteTemplate", file);
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
