import { execFileSync } from "node:child_process";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type FindingText, renderText } from "../../src/core/finding-text.ts";
import type { EventBody } from "../../src/http/events/schemas.ts";
import { mulberry32 } from "../../src/prng.ts";
import { type ServerProcess, startServerProcess } from "../../src/server-process.ts";
import { type Database, openPostgres } from "../../src/store/db.ts";
import { event, IP, LA, MINUTE, newWorkspace, uid } from "../support/factories.ts";
import { freePort } from "../support/server.ts";

/**
 * Several `tether serve` processes on one PostgreSQL database, as a deployment runs them: two separate
 * servers ingesting the same events at once (group commit per process, advisory locks between them,
 * population counts sharded per process), and one server running TETHER_WORKERS=2 behind one port.
 */

interface Verdict {
  id: string;
  account_id: string | null;
  risk: number;
  findings: Array<{ rule: string; severity: string; message: string }>;
}
interface IngestAnswer {
  accepted: number;
  duplicates: number;
  results: Verdict[];
}
/** Every HTTP answer a request got, retries included. */
interface Exchange {
  server: string;
  status: number;
  retryAfter: string | null;
  body: unknown;
}

/** A private address: no country, so not counted under the country baseline or population. */
const PRIVATE_IP = "10.20.30.40";
/** Each process takes seconds to start on a loaded machine; the test never asserts on timing. */
const TIMEOUT = 180_000;
const MAX_503_RETRIES = 30;
/** How long a stopping server may take before the test calls it stuck: a bound on waiting, not a timing check. */
const STOP_WAIT_MS = 60_000;

/** JSON with every object's keys sorted: jsonb does not keep the order the answer had. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)))
      : v,
  );

/** An answer as stored: without the risk factors, which only the judging answer carries. */
const asStored = (verdict: unknown): unknown =>
  verdict && typeof verdict === "object" ? { ...verdict, risk_factors: undefined } : verdict;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POST a JSON body; a 503 with Retry-After is waited out and retried, as an agent does. */
async function post(
  base: string,
  path: string,
  token: string,
  body: unknown,
  log: Exchange[],
): Promise<{ status: number; body: unknown }> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text for the failure message
    }
    const retryAfter = res.headers.get("retry-after");
    log.push({ server: base, status: res.status, retryAfter, body: parsed });
    if (res.status === 503 && retryAfter !== null && attempt < MAX_503_RETRIES) {
      await sleep(Math.max(1, Number(retryAfter) || 1) * 1000);
      continue;
    }
    return { status: res.status, body: parsed };
  }
}

async function get<T>(base: string, path: string, token: string): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(60_000),
  });
  expect(res.status, `GET ${path}`).toBe(200);
  return (await res.json()) as T;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function shuffled<T>(items: T[], seed: number): T[] {
  const random = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** `tether serve` on a free port of its own; stopped by the caller. */
async function serve(databaseUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  return startServerProcess({
    port: await freePort(),
    env: { DATABASE_URL: databaseUrl, TETHER_LOG_LEVEL: "warn", TETHER_WORKERS: "1", ...env },
    readyTimeoutMs: 120_000,
  });
}

/** The distinct errors servers logged (pino level 50 and above), for failure messages. */
function loggedErrors(...servers: ServerProcess[]): string {
  const out = new Set<string>();
  for (const server of servers) {
    for (const line of server.output().split("\n")) {
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
        if ((entry.level ?? 0) >= 50) out.add(`${server.base}: ${entry.msg} ${entry.err?.message ?? ""}`);
      } catch {
        if (line.trim()) out.add(`${server.base}: ${line}`);
      }
    }
  }
  return [...out].slice(0, 20).join("\n");
}

/** A server's log lines, one short line each (process, message, error), for failure messages. */
function logLines(server: ServerProcess): string {
  return server
    .output()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      try {
        const e = JSON.parse(line) as {
          level?: number;
          pid?: number;
          msg?: string;
          err?: { message?: string };
        };
        return `  [${e.level}]${e.pid ? ` pid ${e.pid}` : ""} ${e.msg}${e.err ? `: ${e.err.message?.split("\n").at(-1)}` : ""}`;
      } catch {
        return `  ${line}`;
      }
    })
    .join("\n");
}

/** What went wrong, briefly: the first few unexpected answers and what the servers logged. */
const explain = (unexpected: Exchange[], ...servers: ServerProcess[]) =>
  `${unexpected.length} unexpected answers, e.g.\n${unexpected
    .slice(0, 3)
    .map((x) => `${x.server} ${x.status} ${JSON.stringify(x.body)}`)
    .join("\n")}\nserver errors:\n${loggedErrors(...servers)}`;

/** The pids and command lines of a process's children. */
function childrenOf(pid: number): Array<{ pid: number; args: string }> {
  let out = "";
  try {
    out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(pid)], { encoding: "utf8" });
  } catch {
    return []; // ps exits 1 when it lists nothing
  }
  return out
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), args: m[2]! }));
}

/** Whether a process still runs (a zombie, already exited but not yet reaped, does not). */
function running(pid: number): boolean {
  try {
    const stat = execFileSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" }).trim();
    return stat !== "" && !stat.startsWith("Z");
  } catch {
    return false;
  }
}

describe.runIf(inject("databaseUrl"))(
  "tether serve as several processes (PostgreSQL)",
  { timeout: TIMEOUT },
  () => {
    const databaseUrl = inject("databaseUrl")!;
    let database: Database;
    let sql: postgres.Sql;
    const servers: ServerProcess[] = [];

    beforeAll(async () => {
      database = openPostgres(databaseUrl, { max: 2 });
      sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    });
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await sql?.end();
      await database?.close();
    });

    it("two server processes ingesting the same accounts concurrently lose no baseline count, store no event twice and keep one alert per dedup key", async () => {
      // The workspace exists before the servers start, so they bootstrap nothing.
      const ws = await newWorkspace(database, new Date());
      const started = await Promise.allSettled([serve(databaseUrl), serve(databaseUrl)]);
      for (const s of started) if (s.status === "fulfilled") servers.push(s.value);
      for (const s of started) if (s.status === "rejected") throw s.reason;
      const [a, b] = servers as [ServerProcess, ServerProcess];
      expect(a.base).not.toBe(b.base);
      const log: Exchange[] = [];

      // Ten accounts, six of them pinned to the US: every event from elsewhere raises pin_violation.
      const prefix = uid("proc-");
      const refs = Array.from({ length: 10 }, (_, k) => `${prefix}-${k}`);
      const pinned = new Set(refs.slice(0, 6));
      const accountIds = new Map<string, string>();
      for (const [k, ref] of refs.entries()) {
        const body = {
          platform: "tiktok_shop",
          ref,
          ...(pinned.has(ref) ? { pin: { countries: ["US"] } } : {}),
        };
        const res = await post((k % 2 ? b : a).base, "/v1/accounts", ws.admin, body, log);
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        accountIds.set(ref, (res.body as { id: string }).id);
      }

      // 400 events over 53 hours of the recent past (the accounts leave learning on the way): mostly from
      // home, some from Tokyo, some from a private address.
      const N = 400;
      const start = Date.now() - 3 * 24 * 3_600_000;
      const events: EventBody[] = Array.from({ length: N }, (_, i) => {
        const ip =
          i % 9 === 4 ? IP.tokyo : i % 13 === 7 ? PRIVATE_IP : i % 5 === 0 ? IP.otherNetwork : IP.home;
        return event(start + i * 8 * MINUTE, {
          id: `${prefix}-ev-${i}`,
          ref: refs[i % refs.length]!,
          env: { ...LA, ip, device_id: `dev-${i % 3}` },
        });
      });
      const byId = new Map(events.map((e) => [e.id, e]));
      expect(byId.size).toBe(N);

      // Every id goes to both servers, grouped differently: A in order in batches of 20; B shuffled, half as
      // single-event requests and half in batches of 7. Both streams run at once, 20 requests in flight each.
      const forA = chunks(events, 20).map((batch) => ({ events: batch }));
      const mixed = shuffled(events, 7);
      const forB: Array<EventBody | { events: EventBody[] }> = [
        ...mixed.slice(0, N / 2),
        ...chunks(mixed.slice(N / 2), 7).map((batch) => ({ events: batch })),
      ];
      const answers = { a: new Map<string, Verdict>(), b: new Map<string, Verdict>() };
      let accepted = 0;
      let duplicates = 0;
      const failures: string[] = [];
      const send = (server: ServerProcess, into: Map<string, Verdict>) => async (body: unknown) => {
        const res = await post(server.base, "/v1/events", ws.admin, body, log);
        if (res.status !== 202) {
          failures.push(`${server.base}: ${res.status} ${JSON.stringify(res.body)}`);
          return;
        }
        const answer = res.body as IngestAnswer;
        accepted += answer.accepted;
        duplicates += answer.duplicates;
        for (const r of answer.results) into.set(r.id, r);
      };
      await Promise.all([
        inParallel(forA, 20, send(a, answers.a)),
        inParallel(shuffled(forB, 11), 20, send(b, answers.b)),
      ]);

      // Every answer was 202, or a 503 that said when to retry (and was retried).
      const unexpected = log.filter(
        (x) => x.status !== 202 && x.status !== 201 && !(x.status === 503 && x.retryAfter),
      );
      expect(unexpected.length, explain(unexpected, a, b)).toBe(0);
      expect(failures).toEqual([]);
      // From here on every invariant is checked softly, so one run reports all that broke.
      // Each id was accepted exactly once across the two servers, and answered alike by both (the risk factors
      // come only with the answer that judged the event: a duplicate repeats what was stored).
      expect.soft({ accepted, duplicates }).toEqual({ accepted: N, duplicates: N });
      expect.soft({ a: answers.a.size, b: answers.b.size }).toEqual({ a: N, b: N });
      const answeredApart = [...answers.a]
        .filter(([id, verdict]) => canonical(asStored(answers.b.get(id))) !== canonical(asStored(verdict)))
        .map(([id, verdict]) => ({ id, a: verdict, b: answers.b.get(id) }));
      expect.soft(answeredApart).toEqual([]);

      // What each account should hold, from the distinct events.
      const expected = new Map(
        refs.map((ref) => [
          accountIds.get(ref)!,
          { events: 0, US: 0, JP: 0, private: 0, pinned: pinned.has(ref) },
        ]),
      );
      for (const e of events) {
        const x = expected.get(accountIds.get(e.account!.ref)!)!;
        x.events += 1;
        if (e.env!.ip === IP.tokyo) x.JP += 1;
        else if (e.env!.ip === PRIVATE_IP) x.private += 1;
        else x.US += 1;
      }
      const totals = { US: 0, JP: 0, private: 0 };
      for (const x of expected.values()) {
        totals.US += x.US;
        totals.JP += x.JP;
        totals.private += x.private;
      }
      expect(totals.JP).toBeGreaterThan(0);
      expect(totals.private).toBeGreaterThan(0);

      // Stored once each, with the verdict both servers answered.
      const stored = await sql<
        Array<{ id: string; account_id: string; risk: number; findings: Verdict["findings"] | null }>
      >`
      select id, account_id, risk, coalesce(findings, '[]'::jsonb) as findings from events where workspace_id = ${ws.id}`;
      expect
        .soft({ rows: stored.length, ids: new Set(stored.map((r) => r.id)).size })
        .toEqual({ rows: N, ids: N });
      const names = new Map([...accountIds].map(([ref, id]) => [id, { platform: "tiktok_shop", ref }]));
      const storedApart = stored
        .map((r) => ({
          // an event without findings may be stored as NULL
          stored: {
            id: r.id,
            account_id: r.account_id,
            risk: Number(r.risk),
            // Stored findings keep their sentence as data; the answer words it (English, accounts by ref).
            findings: (r.findings ?? []).map((f: Verdict["findings"][number] & { text?: FindingText }) => ({
              rule: f.rule,
              severity: f.severity,
              message: f.text ? renderText("en", f.text, names) : f.message,
            })),
          },
          answered: asStored(answers.a.get(r.id)),
          account: accountIds.get(byId.get(r.id)?.account?.ref ?? ""),
        }))
        .filter((x) => canonical(x.stored) !== canonical(x.answered) || x.stored.account_id !== x.account);
      expect.soft(storedApart).toEqual([]);

      // No baseline increment lost or doubled: per account, the country counts are its public events.
      const baseline = await sql<Array<{ account_id: string; value: string; count: number }>>`
      select account_id, value, count from baseline_values where workspace_id = ${ws.id} and kind = 'country'`;
      const accounts = await sql<Array<{ id: string; event_count: number }>>`
      select id, event_count from accounts where workspace_id = ${ws.id}`;
      expect.soft(accounts.length).toBe(refs.length);
      const held = [...expected].map(([accountId, x]) => {
        const rows = baseline.filter((r) => r.account_id === accountId);
        const count = (value: string) => rows.find((r) => r.value === value)?.count ?? 0;
        return {
          actual: {
            account: accountId,
            countryTotal: rows.reduce((n, r) => n + r.count, 0),
            US: count("US"),
            JP: count("JP"),
            eventCount: accounts.find((r) => r.id === accountId)?.event_count,
          },
          wanted: { account: accountId, countryTotal: x.US + x.JP, US: x.US, JP: x.JP, eventCount: x.events },
        };
      });
      expect.soft(held.map((h) => h.actual)).toEqual(held.map((h) => h.wanted));

      // The API agrees, whichever server answers.
      const viaApi: Array<{ account: string; eventCount: number; countries: Record<string, number> }> = [];
      for (const [k, accountId] of [...expected.keys()].entries()) {
        const server = k % 2 ? a : b;
        const account = await get<{ event_count: number }>(
          server.base,
          `/v1/accounts/${accountId}`,
          ws.admin,
        );
        const base = await get<{ values: Record<string, Array<{ value: string; count: number }>> }>(
          server.base,
          `/v1/accounts/${accountId}/baseline`,
          ws.admin,
        );
        const countries = Object.fromEntries((base.values.country ?? []).map((v) => [v.value, v.count]));
        viaApi.push({ account: accountId, eventCount: account.event_count, countries });
      }
      expect.soft(viaApi).toEqual(
        [...expected].map(([accountId, x]) => ({
          account: accountId,
          eventCount: x.events,
          countries: { US: x.US, ...(x.JP > 0 ? { JP: x.JP } : {}) },
        })),
      );

      // One open pin_violation alert per (account, key), counting every distinct deviating event once.
      const pinAlerts = await sql<
        Array<{ account_ids: string[]; key: string; status: string; count: number }>
      >`
      select account_ids, key, status, count from alerts where workspace_id = ${ws.id} and rule = 'pin_violation'`;
      const wanted: Array<{ account: string; key: string; status: string; count: number }> = [];
      for (const [accountId, x] of expected) {
        if (!x.pinned) continue;
        if (x.JP > 0) wanted.push({ account: accountId, key: "countries:JP", status: "open", count: x.JP });
        if (x.private > 0)
          wanted.push({ account: accountId, key: "countries:unknown", status: "open", count: x.private });
      }
      const order = (l: typeof wanted) =>
        [...l].sort((p, q) => `${p.account}|${p.key}`.localeCompare(`${q.account}|${q.key}`));
      expect
        .soft(
          order(
            pinAlerts.map((r) => ({
              account: r.account_ids.join(","),
              key: r.key,
              status: r.status,
              count: r.count,
            })),
          ),
        )
        .toEqual(order(wanted));
      const apiAlerts = await get<{
        alerts: Array<{ account_ids: string[]; key: string; status: string; count: number }>;
      }>(b.base, "/v1/alerts?rule=pin_violation&limit=500", ws.admin);
      expect
        .soft(
          order(
            apiAlerts.alerts.map((r) => ({
              account: r.account_ids.join(","),
              key: r.key,
              status: r.status,
              count: r.count,
            })),
          ),
        )
        .toEqual(order(wanted));
      // Whatever else the rules raised: never two live alerts with one identity.
      const twice = await sql`
      select dedup_key, count(*)::int as n from alerts
      where workspace_id = ${ws.id} and status in ('open', 'acknowledged') group by dedup_key having count(*) > 1`;
      expect.soft(twice).toEqual([]);

      // Population counts, summed over the processes' shards, are exact.
      const population = await sql<Array<{ kind: string; value: string; n: number; shards: number }>>`
      select kind, value, sum(count)::int as n, count(*)::int as shards from feature_counts
      where workspace_id = ${ws.id} and ((kind = 'country' and value in ('', 'US', 'JP')) or (kind = 'device' and value = ''))
      group by kind, value`;
      const populationOf = (kind: string, value: string) =>
        population.find((r) => r.kind === kind && r.value === value)?.n ?? 0;
      expect
        .soft({
          country: populationOf("country", ""),
          US: populationOf("country", "US"),
          JP: populationOf("country", "JP"),
          device: populationOf("device", ""),
        })
        .toEqual({ country: totals.US + totals.JP, US: totals.US, JP: totals.JP, device: N });

      const codes = await Promise.all(servers.splice(0).map((s) => s.stop()));
      expect(codes).toEqual([0, 0]);
    });

    it("TETHER_WORKERS=2 serves one port from two worker processes and stops cleanly", async () => {
      const ws = await newWorkspace(database, new Date());
      const server = await serve(databaseUrl, { TETHER_WORKERS: "2", TETHER_LOG_LEVEL: "info" });
      servers.push(server);
      const primary = server.child.pid!;
      // The primary forks both workers before either serves, so both are there once /readyz answers.
      const workers = childrenOf(primary).filter((c) => c.args.includes("tether.js"));
      expect(workers, JSON.stringify(childrenOf(primary))).toHaveLength(2);
      expect(workers.every((w) => running(w.pid))).toBe(true);

      const ref = uid("workers-");
      const start = Date.now() - 24 * 3_600_000;
      const events = Array.from({ length: 30 }, (_, i) => event(start + i * MINUTE, { ref }));
      const log: Exchange[] = [];
      const bodies: unknown[] = [{ events: events.slice(0, 10) }, ...events.slice(10)];
      const statuses: number[] = [];
      await inParallel(bodies, 10, async (body) => {
        statuses.push((await post(server.base, "/v1/events", ws.admin, body, log)).status);
      });
      expect(
        statuses.filter((s) => s !== 202),
        explain(
          log.filter((x) => x.status !== 202),
          server,
        ),
      ).toEqual([]);
      const [{ n }] = await sql<
        [{ n: number }]
      >`select count(*)::int as n from events where workspace_id = ${ws.id}`;
      expect(n).toBe(30);

      // SIGTERM to the primary: it stops its workers, each draining its pipeline first, and exits 0 itself.
      server.child.kill("SIGTERM");
      const code = await Promise.race([server.exited, sleep(STOP_WAIT_MS).then(() => "still running")]);
      const alive = workers.filter((w) => running(w.pid));
      try {
        expect(
          { primary: code, workersRunning: alive.map((w) => w.pid) },
          `after SIGTERM to the primary ${primary} (workers ${workers.map((w) => w.pid).join(", ")}):\n${logLines(server)}`,
        ).toEqual({ primary: 0, workersRunning: [] });
      } finally {
        servers.splice(servers.indexOf(server), 1);
        await server.stop();
        // The workers are this test's processes too: none may outlive it.
        for (const w of workers) if (running(w.pid)) process.kill(w.pid, "SIGKILL");
      }
    });
  },
);
