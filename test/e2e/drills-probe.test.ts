import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROME_120_WIN, HOUR, MINUTE, uid } from "../support/factories.ts";
import { BIN, freePort, scratchPostgres, startServerProcess } from "../support/server.ts";

/**
 * The shipped drill-tool files, used as they are, against a real server process: the HTTP exchanges Chaos
 * Toolkit's http probe and a Litmus httpProbe make, and `tether drill verify` as an operator runs it.
 */

const ADMIN = `e2e-admin-${uid()}`;
const DOCS = join(import.meta.dirname, "../../docs/drills");
const PROCESS_TIMEOUT = 120_000;

interface Experiment {
  configuration: Record<string, { type: string; key: string; default?: string }>;
  "steady-state-hypothesis": { probes: Probe[] };
  method: Probe[];
}
interface Probe {
  name: string;
  tolerance: number | { type: "jsonpath"; path: string; expect: unknown[]; target: string };
  provider: { type: string; url: string; method?: string; headers: Record<string, string> };
}

/** Chaos Toolkit's `${name}` substitution from configuration read from the environment. */
function chaosConfig(experiment: Experiment, env: Record<string, string | undefined>) {
  const values = Object.fromEntries(
    Object.entries(experiment.configuration).map(([name, c]) => {
      expect(c.type).toBe("env");
      return [name, env[c.key] ?? c.default];
    }),
  );
  return (text: string) =>
    text.replace(/\$\{(\w+)\}/g, (_, name: string) => {
      expect(values[name], name).toBeDefined();
      return values[name]!;
    });
}

/** What the http provider does: one request with the probe's method, URL and headers, substituted. */
async function runHttpProbe(probe: Probe, fill: (text: string) => string) {
  expect(probe.provider.type).toBe("http");
  const res = await fetch(fill(probe.provider.url), {
    method: probe.provider.method ?? "GET",
    headers: Object.fromEntries(Object.entries(probe.provider.headers).map(([k, v]) => [k, fill(v)])),
  });
  return { status: res.status, body: await res.text() };
}

/** The probe's tolerance as Chaos Toolkit checks it: a status code, or a JSONPath into the JSON body. */
function withinTolerance(probe: Probe, answer: { status: number; body: string }): boolean {
  if (typeof probe.tolerance === "number") return answer.status === probe.tolerance;
  expect(probe.tolerance).toMatchObject({ type: "jsonpath", path: "$.verdict", target: "body" });
  const verdict = (JSON.parse(answer.body) as { verdict: unknown }).verdict;
  return probe.tolerance.expect.includes(verdict);
}

/** The few fields of the Litmus snippet, read line by line (the snippet keeps one `key: value` a line). */
function litmusProbe(yaml: string) {
  const field = (key: string) => {
    const m = new RegExp(`^\\s*${key.replace("/", "\\/")}:\\s*(.+?)\\s*$`, "m").exec(yaml);
    expect(m, key).not.toBeNull();
    return m![1]!.replace(/^"(.*)"$/, "$1");
  };
  expect(field("type")).toBe("httpProbe");
  expect(yaml).toMatch(/^\s*get:\s*$/m);
  return {
    url: new URL(field("url")),
    authType: yaml.match(/^\s*auth:\s*\n\s*type:\s*(\S+)/m)![1]!,
    credentials: field("credentials"),
    criteria: field("criteria"),
    responseCode: field("responseCode"),
  };
}

function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const full: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!("LANG" in env)) full.LANG = "C";
  delete full.LC_ALL;
  delete full.LC_MESSAGES;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: full, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe("drill tools against a real server", () => {
  let dataDir: string;
  let pg: Awaited<ReturnType<typeof scratchPostgres>>;
  let server: Awaited<ReturnType<typeof startServerProcess>>;
  let viewer: string;

  const call = async (path: string, token: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: parsed JSON, read loosely by assertions
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "tether-drills-"));
    pg = await scratchPostgres();
    server = await startServerProcess({
      TETHER_DATA_DIR: dataDir,
      TETHER_BOOTSTRAP_TOKEN: ADMIN,
      ...(pg ? { DATABASE_URL: pg.url } : {}),
    });
    viewer = (await call("/v1/tokens", ADMIN, { name: "drill probe", role: "viewer" })).body.token;
    // Two isolated accounts, each with its own agent, device and network, learned over the past day; the
    // last report two minutes ago is their heartbeat. Times are real: this server runs on the system clock.
    const start = Date.now() - 24 * HOUR - 2 * MINUTE;
    for (const [ref, ip] of [
      ["us-store-1", "73.15.20.10"],
      ["us-store-2", "68.4.2.11"],
    ] as const) {
      const env = await call("/v1/environments", ADMIN, { name: `vm-${ref}` });
      const events = Array.from({ length: 25 }, (_, h) => ({
        id: uid("ev-"),
        type: "operation",
        operation: "inventory_sync",
        occurred_at: new Date(start + h * HOUR).toISOString(),
        account: { platform: "tiktok_shop", ref },
        env: {
          ip,
          device_id: `dev-${ref}`,
          user_agent: CHROME_120_WIN,
          timezone: "America/Los_Angeles",
          locale: "en-US",
        },
      }));
      const sent = await call("/v1/events", env.body.token, { events });
      expect(sent.status).toBe(202);
    }
  }, PROCESS_TIMEOUT);

  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
    await pg?.drop();
  }, PROCESS_TIMEOUT);

  const experiment = () =>
    JSON.parse(readFileSync(join(DOCS, "chaostoolkit-experiment.json"), "utf8")) as Experiment;
  const chaosEnv = () => ({ TETHER_URL: server.url, TETHER_TOKEN: viewer });

  async function litmusExchange() {
    const probe = litmusProbe(readFileSync(join(DOCS, "litmus-httpprobe.yaml"), "utf8"));
    // The snippet names tether's in-cluster address; the probe's path and query go to this server.
    const url = `${server.url}${probe.url.pathname}${probe.url.search}`;
    expect(probe.credentials).toMatch(/^ttu_/);
    const res = await fetch(url, { headers: { Authorization: `${probe.authType} ${viewer}` } });
    await res.text();
    expect(probe.criteria).toBe("==");
    return String(res.status) === probe.responseCode;
  }

  it(
    "holds the Chaos Toolkit steady state, the JSONPath verdict and the Litmus probe on a ready matrix",
    async () => {
      const exp = experiment();
      const fill = chaosConfig(exp, chaosEnv());
      const [steady] = exp["steady-state-hypothesis"].probes;
      expect(steady!.tolerance).toBe(200);
      const answer = await runHttpProbe(steady!, fill);
      expect(answer.status, answer.body).toBe(200);
      expect(withinTolerance(steady!, answer)).toBe(true);
      for (const probe of exp.method)
        expect(withinTolerance(probe, await runHttpProbe(probe, fill))).toBe(true);
      expect(await litmusExchange()).toBe(true);
    },
    PROCESS_TIMEOUT,
  );

  it(
    "exits 0 from tether drill verify --json on a ready matrix, and prints the table in Chinese under zh_CN",
    async () => {
      const env = { TETHER_URL: server.url, TETHER_TOKEN: viewer };
      const json = await cli(["drill", "verify", "--json"], env);
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ verdict: "pass", failed: [] });
      const zh = await cli(["drill", "verify"], { ...env, LANG: "zh_CN.UTF-8" });
      expect(zh.code, zh.stderr).toBe(0);
      expect(zh.stdout).toMatch(/^可以演练：全部 2 个账号均可进行演练\n/);
      expect(zh.stdout).toMatch(/账号\s+基线\s+告警\s+隔离\s+心跳\s+平台故障/);
      expect(zh.stdout).toMatch(/tiktok_shop\/us-store-1\s+通过\s+通过\s+通过\s+通过\s+通过/);
      const scoped = await cli(["drill", "verify", "--platform", "amazon", "--url", server.url], {
        TETHER_TOKEN: viewer,
      });
      expect(scoped.code).toBe(1);
      expect(scoped.stdout).toMatch(/^NOT READY for the drill: no account in scope/);
    },
    PROCESS_TIMEOUT,
  );

  it(
    "fails every tool once an incident is active on the accounts' platform",
    async () => {
      const reviewer = (await call("/v1/tokens", ADMIN, { name: "drill lead", role: "reviewer" })).body.token;
      expect(
        (await call("/v1/incidents", reviewer, { platform: "tiktok_shop", title: "login outage" })).status,
      ).toBe(201);
      const exp = experiment();
      const fill = chaosConfig(exp, chaosEnv());
      const [steady] = exp["steady-state-hypothesis"].probes;
      const answer = await runHttpProbe(steady!, fill);
      expect(answer.status).toBe(412);
      expect(withinTolerance(steady!, answer)).toBe(false);
      expect(JSON.parse(answer.body).verdict).toBe("fail");
      for (const probe of exp.method)
        expect(withinTolerance(probe, await runHttpProbe(probe, fill))).toBe(false);
      expect(await litmusExchange()).toBe(false);

      const env = { TETHER_URL: server.url, TETHER_TOKEN: viewer };
      const json = await cli(["drill", "verify", "--json"], env);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout).failed.map((a: { ref: string }) => a.ref)).toEqual([
        "us-store-1",
        "us-store-2",
      ]);
      const table = await cli(["drill", "verify"], env);
      expect(table.code).toBe(1);
      expect(table.stdout).toContain(
        "tiktok_shop/us-store-1  incident: an active incident on tiktok_shop: login outage",
      );
      const zh = await cli(["drill", "verify"], { ...env, LANG: "zh_CN.UTF-8" });
      expect(zh.stdout).toMatch(/^尚不具备演练条件：2 个账号中有 2 个尚不具备演练条件\n/);
      expect(zh.stdout).toContain("tiktok_shop 有 1 个进行中的平台故障：login outage");
    },
    PROCESS_TIMEOUT,
  );

  it(
    "exits 2 when the command has no token, a bad option, a wrong token or no server",
    async () => {
      const noToken = await cli(["drill", "verify"], { TETHER_URL: server.url });
      expect(noToken).toMatchObject({
        code: 2,
        stderr: "tether: drill verify needs a user token: --token T or TETHER_TOKEN\n",
      });
      const zhNoToken = await cli(["drill", "verify"], { TETHER_URL: server.url, LANG: "zh_CN.UTF-8" });
      expect(zhNoToken.stderr).toBe("tether: drill verify 需要用户令牌：--token T 或环境变量 TETHER_TOKEN\n");
      expect((await cli(["drill", "verify", "--colour"], { TETHER_TOKEN: viewer })).code).toBe(2);
      const wrong = await cli(["drill", "verify", "--url", server.url, "--token", "ttu_wrong"], {});
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/answered 401/);
      const away = await cli(["drill", "verify", "--url", `http://127.0.0.1:${await freePort()}`], {
        TETHER_TOKEN: viewer,
      });
      expect(away.code).toBe(2);
      expect(away.stderr).toMatch(/^tether: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    },
    PROCESS_TIMEOUT,
  );
});
