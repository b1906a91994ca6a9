import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = new URL("../../", import.meta.url).pathname;
const BIOME = join(ROOT, "node_modules/.bin/biome");

/**
 * The project's own lint configuration, applied to a scratch tree shaped like src/: a core module that
 * imports the store must fail `npm run lint`, one that imports only core must pass.
 */
describe("the core stays pure (Biome noRestrictedImports)", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tether-lint-"));
    const config = JSON.parse(await readFile(join(ROOT, "biome.json"), "utf8"));
    config.vcs = { enabled: false };
    delete config.$schema;
    await writeFile(join(dir, "biome.json"), JSON.stringify(config));
    await mkdir(join(dir, "src/core"), { recursive: true });
    await mkdir(join(dir, "src/store"), { recursive: true });
    await writeFile(join(dir, "src/store/db.ts"), "export type Db = { kind: string };\n");
    await writeFile(join(dir, "src/core/model.ts"), "export type Settings = { kind: string };\n");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function lint(source: string) {
    await writeFile(join(dir, "src/core/probe.ts"), source);
    return run(BIOME, ["lint", "src/core/probe.ts"], { cwd: dir }).then(
      (r) => ({ code: 0, output: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        output: e.stdout + e.stderr,
      }),
    );
  }

  it("fails when a core module imports the store", async () => {
    const result = await lint('import type { Db } from "../store/db.ts";\n\nexport type X = Db;\n');
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("noRestrictedImports");
  });

  it("fails when a core module imports a database driver", async () => {
    const result = await lint('import postgres from "postgres";\n\nexport const x = postgres;\n');
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("noRestrictedImports");
  });

  it("passes when a core module imports only core", async () => {
    const result = await lint('import type { Settings } from "./model.ts";\n\nexport type X = Settings;\n');
    expect(result).toEqual({ code: 0, output: expect.any(String) });
  });
});
