import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openPglite, openPostgres } from "../../src/store/db.ts";
import { event, uid } from "../support/factories.ts";
import {
  type HostileRequest,
  hostileRequest,
  hostileTargets,
  notARefusal,
  rowCounts,
  type Target,
} from "../support/hostile.ts";
import { scratchPostgres, startServerProcess } from "../support/server.ts";

/** Cases in all, spread over lanes that run at once (a client per lane, as several agents would be). */
const CASES = 10_000;
const LANES = 4;
const BOOTSTRAP = "fuzz-bootstrap-token-0123456789";

describe("hostile input against a running server", () => {
  it(`answers ${CASES} generated hostile requests with a 4xx envelope, stores nothing and keeps serving`, async () => {
    const pg = await scratchPostgres();
    const dataDir = pg ? null : await mkdtemp(join(tmpdir(), "tether-fuzz-"));
    const env = {
      TETHER_BOOTSTRAP_TOKEN: BOOTSTRAP,
      ...(pg ? { DATABASE_URL: pg.url } : { TETHER_DATA_DIR: dataDir! }),
    };
    /** Every table's rows, read while no server runs (PGlite's data dir has one owner). */
    const countRows = async () => {
      const database = pg ? openPostgres(pg.url, { max: 1 }) : await openPglite({ dataDir: dataDir! });
      try {
        return await rowCounts(database.db);
      } finally {
        await database.close();
      }
    };
    let server = await startServerProcess(env);
    try {
      const call = async (method: string, path: string, token: string, body?: unknown) => {
        const res = await fetch(`${server.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        // biome-ignore lint/suspicious/noExplicitAny: parsed JSON, read loosely as test/support/api.ts does
        return { status: res.status, body: (await res.json()) as any };
      };
      const user = async (role: string) =>
        (await call("POST", "/v1/tokens", BOOTSTRAP, { name: uid(`${role}-`), role })).body.token as string;
      const tokens = {
        admin: BOOTSTRAP,
        reviewer: await user("reviewer"),
        viewer: await user("viewer"),
        agent: (await call("POST", "/v1/environments", BOOTSTRAP, { name: uid("vm-"), account_ids: [] })).body
          .token as string,
      };
      const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as Parameters<
        typeof hostileTargets
      >[0];
      const targets = hostileTargets(openapi, {
        "POST /v1/events": () => event(Date.now() - 60_000, { ref: uid("fuzz-") }),
      });
      // The unspoilt bodies are accepted (or meet ids that name nothing, or a drill verification that finds the
      // accounts not ready: 412): what each case is refused for is what it spoilt.
      for (const { route, caller, body } of targets) {
        if (!body) continue;
        const res = await call(route.method, route.path.replace(/:\w+/, "x_missing"), tokens[caller], body());
        expect(
          [200, 201, 202, 404, 412],
          `${route.method} ${route.path}: ${JSON.stringify(res.body)}`,
        ).toContain(res.status);
      }
      await server.stop();
      const before = await countRows();
      server = await startServerProcess(env);

      const perRoute = new Map<string, number>();
      const send = async (target: Target, r: HostileRequest) => {
        const name = `${target.route.method} ${target.route.path}`;
        perRoute.set(name, (perRoute.get(name) ?? 0) + 1);
        const res = await fetch(`${server.url}${r.path}`, {
          method: r.method,
          headers: { ...r.headers, authorization: `Bearer ${tokens[target.caller]}` },
          body: r.body,
        });
        const problem = notARefusal(res.status, await res.text());
        if (problem) throw new Error(`${r.label}: ${problem}`);
      };
      const started = performance.now();
      await Promise.all(
        Array.from({ length: LANES }, () =>
          fc.assert(
            fc.asyncProperty(
              fc
                .constantFrom(...targets)
                .chain((target) => hostileRequest(target).map((r) => ({ target, r }))),
              ({ target, r }) => send(target, r),
            ),
            { numRuns: CASES / LANES, endOnFailure: true },
          ),
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      const cases = [...perRoute.values()].reduce((a, b) => a + b, 0);
      console.info(
        `fuzz: ${cases} cases over ${perRoute.size} routes in ${seconds.toFixed(1)} s on ${pg ? "PostgreSQL" : "PGlite"}`,
      );
      expect(cases).toBe(CASES);
      expect(perRoute.size).toBe(targets.length);

      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect((await call("GET", "/v1/whoami", tokens.agent)).status).toBe(200);
      expect(server.child.exitCode).toBeNull();
      expect(await server.stop()).toBe(0);
      expect(await countRows()).toEqual(before);
    } finally {
      await server.stop();
      await pg?.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  }, 300_000);
});
