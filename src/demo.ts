import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { TetherClient } from "../agents/node/client.ts";
import type { EventBody } from "./http/events/schemas.ts";
import { mulberry32 } from "./prng.ts";
import { type ServerProcess, ServerStartError, startServerProcess } from "./server-process.ts";

/**
 * `tether demo`: a real server in a child process on a fresh embedded database, fed a simulated matrix of
 * store accounts through the public HTTP API only, so what it shows is exactly what an agent would get.
 * Everything random comes from one seeded generator: two runs raise the same alerts.
 */

const DATA_DIR = ".tether-demo";
const DEFAULT_PORT = 8787;
const SEED = 20260125;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const HISTORY_DAYS = 4;
const MAX_BATCH = 500;
const READY_TIMEOUT_MS = 60_000;
/** Where in each account's history (0…1) the benign churn happens: well after its baseline is established. */
const BROWSER_UPDATE_AT = 0.5;
const LEASE_RENEWAL_AT = 0.62;
/** Rules that must stay quiet for a residential IP renewal inside the same /24 or a browser version bump. */
const CHURN_RULES = ["new_ip", "new_network", "new_device", "ua_changed"];

type Browser = "chromeWin" | "chromeMac" | "firefoxWin" | "firefoxMac";
const UA: Record<Browser, { version: number; ua: (version: number) => string }> = {
  chromeWin: {
    version: 120,
    ua: (v) =>
      `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36`,
  },
  chromeMac: {
    version: 120,
    ua: (v) =>
      `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36`,
  },
  firefoxWin: {
    version: 121,
    ua: (v) => `Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:${v}.0) Gecko/20100101 Firefox/${v}.0`,
  },
  firefoxMac: {
    version: 121,
    ua: (v) => `Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:${v}.0) Gecko/20100101 Firefox/${v}.0`,
  },
};

const PLACES = {
  la: { timezone: "America/Los_Angeles", locale: "en-US" },
  ny: { timezone: "America/New_York", locale: "en-US" },
  de: { timezone: "Europe/Berlin", locale: "de-DE" },
  uk: { timezone: "Europe/London", locale: "en-GB" },
} as const;
type Place = keyof typeof PLACES;
type Platform = "tiktok_shop" | "amazon";

interface Extra {
  group?: string;
  pin?: { countries?: string[]; asns?: number[] };
  /** benign churn: the ISP renews the lease inside the same /24 (this last octet) part-way through */
  renew?: number;
  /** benign churn: the browser updates itself one major version part-way through */
  bump?: true;
}
type Row = [
  ref: string,
  place: Place,
  ip: string,
  browser: Browser,
  operator: string,
  home: string,
  extra?: Extra,
];

/**
 * The matrix: each account on its own residential /24, which the bundled GeoLite2 + ASN data places in the
 * account's country and timezone (`home` says where; it becomes the account's label).
 */
// biome-ignore format: a table reads best aligned
const MATRIX: Record<Platform, Row[]> = {
  tiktok_shop: [
    ["us-west-01", "la", "73.15.0.23",   "chromeWin",  "li.wei",    "Comcast, Sunnyvale CA",    { renew: 187 }],
    ["us-west-02", "la", "73.15.6.41",   "chromeWin",  "li.wei",    "Comcast, Berkeley CA",     { bump: true }],
    ["us-west-03", "la", "24.5.3.15",    "chromeMac",  "zhang.min", "Comcast, Yountville CA"],
    ["us-west-04", "la", "76.102.4.88",  "chromeWin",  "zhang.min", "Comcast, San Jose CA"],
    ["us-west-05", "la", "76.102.8.19",  "firefoxWin", "chen.jie",  "Comcast, Los Altos CA"],
    ["us-west-06", "la", "98.207.2.54",  "chromeWin",  "chen.jie",  "Comcast, Daly City CA"],
    ["us-west-07", "la", "98.207.9.133", "chromeMac",  "wang.fang", "Comcast, Mountain View CA", { pin: { countries: ["US"], asns: [7922] } }],
    ["us-west-08", "la", "68.4.0.77",    "chromeMac",  "wang.fang", "Cox, Irvine CA",           { renew: 203, bump: true }],
    ["us-west-09", "la", "68.4.10.12",   "firefoxMac", "liu.yang",  "Cox, Irvine CA"],
    ["us-west-10", "la", "73.15.8.140",  "chromeWin",  "liu.yang",  "Comcast, Lafayette CA",    { group: "us-agency" }],
    ["us-west-11", "la", "24.5.7.201",   "chromeWin",  "liu.yang",  "Comcast, Yountville CA",   { group: "us-agency" }],
    ["us-east-01", "ny", "71.190.0.31",  "chromeWin",  "sun.li",    "Verizon, Brooklyn NY",     { renew: 118 }],
    ["us-east-02", "ny", "71.190.8.64",  "chromeMac",  "sun.li",    "Verizon, Queens NY"],
    ["us-east-03", "ny", "71.190.10.90", "firefoxWin", "sun.li",    "Verizon, The Bronx NY"],
  ],
  amazon: [
    ["de-01",      "de", "79.192.0.44",  "chromeWin",  "anna.k",    "Telekom, Düsseldorf",      { group: "eu-team", renew: 161 }],
    ["de-02",      "de", "84.128.2.17",  "firefoxWin", "anna.k",    "Telekom, Bad Salzuflen",   { group: "eu-team" }],
    ["de-03",      "de", "91.0.4.120",   "chromeWin",  "jonas.m",   "Telekom, Düsseldorf"],
    ["de-04",      "de", "79.192.9.61",  "chromeMac",  "jonas.m",   "Telekom, Düsseldorf"],
    ["uk-01",      "uk", "86.128.0.65",  "chromeWin",  "tom.b",     "BT, Tower Hamlets"],
    ["uk-02",      "uk", "82.0.1.23",    "chromeWin",  "tom.b",     "Virgin Media, Newcastle",  { bump: true }],
    ["uk-03",      "uk", "90.192.0.99",  "firefoxMac", "ella.w",    "Sky, Cardiff"],
    ["uk-04",      "uk", "86.128.8.140", "chromeMac",  "ella.w",    "BT, Clitheroe",            { renew: 23 }],
    ["us-01",      "ny", "71.190.5.77",  "chromeWin",  "sun.li",    "Verizon, Brooklyn NY"],
    ["us-02",      "la", "98.207.5.150", "chromeMac",  "chen.jie",  "Comcast, Daly City CA"],
  ],
};

interface AccountSpec {
  platform: Platform;
  ref: string;
  label: string;
  group: string | null;
  pin: Extra["pin"] | null;
  place: Place;
  ip: string;
  renewedIp: string | null;
  ua: string;
  updatedUa: string | null;
  operator: string;
}

function accountSpecs(): AccountSpec[] {
  return Object.entries(MATRIX).flatMap(([platform, rows]) =>
    rows.map(([ref, place, ip, browser, operator, home, extra = {}]) => {
      const { version, ua } = UA[browser];
      return {
        platform: platform as Platform,
        ref,
        label: `${ref} (${home})`,
        group: extra.group ?? null,
        pin: extra.pin ?? null,
        place,
        ip,
        renewedIp: extra.renew === undefined ? null : ip.replace(/\d+$/, String(extra.renew)),
        ua: ua(version),
        updatedUa: extra.bump ? ua(version + 1) : null,
        operator,
      };
    }),
  );
}

interface Step {
  minutesAgo: number;
  type?: "login" | "operation";
  operation?: string;
  ip?: string;
  deviceId?: string;
  timezone?: string;
  locale?: string;
  /** use this other account's device id (a store opened on another store's machine) */
  deviceOf?: string;
  /** exit through this other account's IP (two browser profiles behind one proxy) */
  ipOf?: string;
}

interface Scenario {
  en: string;
  zh: string;
  /** the account the violation is about */
  ref: string;
  /** the alert the scenario must raise on that account */
  rule: string;
  /** whose agent reports the steps (default: the account's own); its whole environment is used */
  reporter?: string;
  /** the account's normal history stops this long before the end, so the steps are judged on their own */
  quietMinutes: number;
  steps: Step[];
}

/** The violations, in the last hours, once every account is established. */
const SCENARIOS: Scenario[] = [
  {
    en: "new device",
    zh: "新设备登录",
    ref: "us-west-03",
    rule: "new_device",
    quietMinutes: 60,
    steps: [{ minutesAgo: 40, deviceId: "dev-unknown-laptop-7f3a" }],
  },
  {
    // Quiet for 13 h before, so only the country (not the speed) is in question.
    en: "login from another country (Tokyo)",
    zh: "异国登录（东京）",
    ref: "us-west-04",
    rule: "new_country",
    quietMinutes: 13 * 60,
    steps: [{ minutesAgo: 120, ip: "133.242.1.1" }],
  },
  {
    // Los Altos, CA then Staten Island, NY (Verizon) one hour later: ~4,100 km.
    en: "impossible travel (California → New York in 1 h)",
    zh: "不可能的移动（1 小时内加州 → 纽约）",
    ref: "us-west-05",
    rule: "impossible_travel",
    quietMinutes: 4 * 60,
    steps: [{ minutesAgo: 150 }, { minutesAgo: 90, ip: "71.190.9.25" }],
  },
  {
    // Three BT exits around London within 40 min (a rotating proxy pool): close enough that no speed is implied.
    en: "environment hopping (3 IPs within an hour)",
    zh: "环境跳变（1 小时内 3 个 IP）",
    ref: "uk-01",
    rule: "env_hopping",
    quietMinutes: 3 * 60,
    steps: [
      { minutesAgo: 120 },
      { minutesAgo: 100, type: "operation", operation: "price_change", ip: "86.128.2.36" },
      { minutesAgo: 80, type: "operation", operation: "publish_listing", ip: "86.128.14.203" },
    ],
  },
  {
    // Cox Irvine instead of the pinned Comcast: same state, another network.
    en: "pinned account on another network",
    zh: "固定网络的账号换了网络",
    ref: "us-west-07",
    rule: "pin_violation",
    quietMinutes: 3 * 60,
    steps: [{ minutesAgo: 50, ip: "68.4.6.1" }],
  },
  {
    en: "account operated from another account's environment",
    zh: "账号在其他账号的环境中被操作",
    ref: "de-04",
    rule: "unbound_environment",
    reporter: "de-03",
    quietMinutes: 60,
    steps: [{ minutesAgo: 30, type: "operation", operation: "price_change" }],
  },
  {
    // The contaminated chain: us-east-02 is opened on us-east-03's laptop, and us-east-03 logs in through
    // amazon/us-01's proxy exit. One cluster of three accounts across two platforms.
    en: "second store opened on another store's device",
    zh: "在另一店铺的设备上开了第二家店",
    ref: "us-east-02",
    rule: "shared_device",
    quietMinutes: 2 * 60,
    steps: [{ minutesAgo: 70, deviceOf: "us-east-03" }],
  },
  {
    en: "two stores' profiles exit through one proxy IP",
    zh: "两个店铺的浏览器配置共用一个代理出口 IP",
    ref: "us-east-03",
    rule: "shared_ip",
    quietMinutes: 2 * 60,
    steps: [{ minutesAgo: 45, ipOf: "us-01" }],
  },
  {
    // DigitalOcean in Santa Clara: the same state as the store's Comcast line, but a cloud server's exit.
    en: "proxy leaked into a datacenter (DigitalOcean, same state)",
    zh: "代理泄漏到机房 IP（DigitalOcean，同一州）",
    ref: "us-02",
    rule: "datacenter_network",
    quietMinutes: 2 * 60,
    steps: [{ minutesAgo: 35, ip: "137.184.12.40" }],
  },
  {
    // The operator opened the store in their own browser: a British store suddenly speaks Chinese.
    en: "browser language leak (en-GB → zh-CN)",
    zh: "浏览器语言泄漏（en-GB → zh-CN）",
    ref: "uk-03",
    rule: "locale_changed",
    quietMinutes: 60,
    steps: [{ minutesAgo: 25, locale: "zh-CN" }],
  },
  {
    en: "device timezone disagrees with the IP",
    zh: "设备时区与 IP 所在地不符",
    ref: "us-west-06",
    rule: "timezone_mismatch",
    quietMinutes: 60,
    steps: [{ minutesAgo: 20, timezone: "Asia/Shanghai" }],
  },
];

const OPERATIONS: Record<Platform, Array<[string, number]>> = {
  tiktok_shop: [
    ["order_process", 4],
    ["message_reply", 3],
    ["inventory_sync", 3],
    ["publish_listing", 2],
    ["price_change", 2],
    ["ad_budget_change", 1],
  ],
  amazon: [
    ["order_process", 4],
    ["inventory_sync", 3],
    ["message_reply", 2],
    ["price_change", 2],
    ["publish_listing", 1],
    ["ad_campaign_change", 1],
    ["refund", 1],
  ],
};

class DemoError extends Error {}

type Rng = () => number;
const between = (rng: Rng, min: number, max: number) => min + rng() * (max - min);
const hex = (rng: Rng, n: number) =>
  Array.from({ length: n }, () => Math.floor(rng() * 16).toString(16)).join("");

function weighted<T>(rng: Rng, items: Array<[T, number]>): T {
  let r = rng() * items.reduce((sum, [, w]) => sum + w, 0);
  for (const [item, w] of items) {
    r -= w;
    if (r < 0) return item;
  }
  return items[items.length - 1]![0];
}

interface Options {
  port: number;
  exit: boolean;
}

function parseOptions(argv: string[]): Options {
  let values: { port?: string | undefined; exit?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { port: { type: "string" }, exit: { type: "boolean", default: false } },
    }));
  } catch (err) {
    throw new DemoError(`${(err as Error).message}\nusage: tether demo [--port N] [--exit]`);
  }
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new DemoError(`--port must be a TCP port (1–65535), got ${values.port}`);
  return { port, exit: values.exit === true };
}

// ——— the server ———

async function ensurePortFree(port: number): Promise<void> {
  await new Promise<void>((done, fail) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) =>
      fail(
        new DemoError(
          err.code === "EADDRINUSE"
            ? `port ${port} is already in use on 127.0.0.1; stop what uses it or pick another with --port N`
            : `cannot listen on 127.0.0.1:${port}: ${err.message}`,
        ),
      ),
    );
    probe.listen(port, "127.0.0.1", () => probe.close(() => done()));
  });
}

type Server = ServerProcess & { dataDir: string };

async function startServer(port: number, token: string): Promise<Server> {
  await ensurePortFree(port);
  const dataDir = resolve(DATA_DIR);
  await rm(dataDir, { recursive: true, force: true });
  try {
    const server = await startServerProcess({
      port,
      readyTimeoutMs: READY_TIMEOUT_MS,
      env: {
        TETHER_DATA_DIR: dataDir,
        TETHER_BOOTSTRAP_TOKEN: token,
        TETHER_LOG_LEVEL: process.env.TETHER_LOG_LEVEL ?? "warn",
      },
      // The server's own output goes to stderr: stdout is the demo's report.
      onOutput: (chunk) => process.stderr.write(chunk),
    });
    return Object.assign(server, { dataDir });
  } catch (err) {
    if (err instanceof ServerStartError) throw new DemoError(err.message);
    throw err;
  }
}

// ——— the API ———

type Call = <T>(method: string, path: string, token: string, body?: unknown) => Promise<T>;

/** The agents' typed client: a 429/503 with Retry-After is waited out, any other non-2xx stops the demo. */
function apiClient(base: string): Call {
  const client = new TetherClient({ base, timeoutMs: 60_000 });
  return async <T>(method: string, path: string, token: string, body?: unknown): Promise<T> => {
    const answer = await client.request<T>(method, path, body, { token });
    if (!answer.ok)
      throw new DemoError(
        `${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 500)}`,
      );
    return answer.body;
  };
}

// ——— the matrix ———

interface Member {
  spec: AccountSpec;
  id: string;
  agentToken: string;
  deviceId: string;
  profile: string;
}

async function createMatrix(call: Call, admin: string, rng: Rng): Promise<Map<string, Member>> {
  const members = new Map<string, Member>();
  for (const [i, spec] of accountSpecs().entries()) {
    const account = await call<{ id: string }>("POST", "/v1/accounts", admin, {
      platform: spec.platform,
      ref: spec.ref,
      label: spec.label,
      group: spec.group,
      pin: spec.pin,
    });
    const profile = `adspower-${String(i + 1).padStart(3, "0")}`;
    const env = await call<{ token: string }>("POST", "/v1/environments", admin, {
      name: `${spec.platform}-${spec.ref} (${profile})`,
      account_ids: [account.id],
    });
    members.set(spec.ref, {
      spec,
      id: account.id,
      agentToken: env.token,
      deviceId: `dev-${hex(rng, 16)}`,
      profile,
    });
  }
  return members;
}

interface EnvOverrides {
  ip?: string;
  deviceId?: string;
  timezone?: string;
  locale?: string;
}

/** What one member's environment reports at a point of its history (`progress` 0…1). */
function envOf(m: Member, progress: number, over: EnvOverrides = {}): NonNullable<EventBody["env"]> {
  const place = PLACES[m.spec.place];
  return {
    ip: over.ip ?? (m.spec.renewedIp && progress >= LEASE_RENEWAL_AT ? m.spec.renewedIp : m.spec.ip),
    device_id: over.deviceId ?? m.deviceId,
    user_agent: m.spec.updatedUa && progress >= BROWSER_UPDATE_AT ? m.spec.updatedUa : m.spec.ua,
    timezone: over.timezone ?? place.timezone,
    locale: over.locale ?? place.locale,
    profile: m.profile,
  };
}

function makeEvent(
  m: Member,
  seq: number,
  at: number,
  type: "login" | "operation",
  operation: string | undefined,
  env: EventBody["env"],
  result?: EventBody["result"],
): EventBody {
  return {
    id: `demo-${m.spec.platform}-${m.spec.ref}-${String(seq).padStart(4, "0")}`,
    type,
    occurred_at: new Date(at).toISOString(),
    account: { platform: m.spec.platform, ref: m.spec.ref },
    operator: m.spec.operator,
    ...(operation ? { operation } : {}),
    ...(result ? { result } : {}),
    env,
  };
}

/** Normal work: a login every 1–3 hours, followed by one to three operations a few minutes apart. */
function history(m: Member, rng: Rng, start: number, until: number): EventBody[] {
  const events: EventBody[] = [];
  const span = until - start;
  const push = (at: number, type: "login" | "operation", operation?: string, result?: EventBody["result"]) =>
    events.push(makeEvent(m, events.length, at, type, operation, envOf(m, (at - start) / span), result));
  let t = start + between(rng, 0, 120) * MINUTE;
  while (t <= until) {
    push(t, "login");
    let at = t;
    const ops = 1 + Math.floor(rng() * 3);
    for (let i = 0; i < ops; i += 1) {
      at += between(rng, 3, 25) * MINUTE;
      if (at > until) break;
      const operation = weighted(rng, OPERATIONS[m.spec.platform]);
      const throttled = operation === "inventory_sync" && rng() < 0.05;
      push(
        at,
        "operation",
        operation,
        throttled ? { status: "error", code: "rate_limited", http_status: 429 } : undefined,
      );
    }
    t += between(rng, 60, 180) * MINUTE;
  }
  return events;
}

interface Posting {
  requests: number;
  posted: number;
  accepted: number;
}

/** What the server answered about the fed matrix, read back through the API. */
interface Readback {
  alerts: AlertJson[];
  established: number;
  clusters: Array<{ account_ids: string[]; kinds: string[] }>;
  incidents: Array<{
    id: string;
    title: string;
    source: string;
    status: string;
    started_at: string;
    ended_at: string | null;
  }>;
}

async function incidentsOf(call: Call, admin: string): Promise<Readback["incidents"]> {
  return (await call<{ incidents: Readback["incidents"] }>("GET", "/v1/incidents", admin)).incidents;
}

async function clustersOf(call: Call, admin: string): Promise<Readback["clusters"]> {
  return (await call<{ clusters: Readback["clusters"] }>("GET", "/v1/associations", admin)).clusters;
}

async function postEvents(call: Call, token: string, events: EventBody[], tally: Posting): Promise<void> {
  for (let i = 0; i < events.length; i += MAX_BATCH) {
    const batch = events.slice(i, i + MAX_BATCH);
    const res = await call<{ accepted: number }>("POST", "/v1/events", token, { events: batch });
    tally.requests += 1;
    tally.posted += batch.length;
    tally.accepted += res.accepted;
  }
}

/** Agents upload their spool once a day: one round of batches per simulated day, each agent its own. */
async function feedHistory(
  call: Call,
  members: Map<string, Member>,
  rng: Rng,
  end: number,
  tally: Posting,
): Promise<void> {
  const start = end - HISTORY_DAYS * 24 * HOUR;
  const quiet = new Map(SCENARIOS.map((s) => [s.ref, s.quietMinutes]));
  const byMember = [...members.values()].map((m) => ({
    m,
    events: history(m, rng, start, end - (quiet.get(m.spec.ref) ?? 60) * MINUTE),
  }));
  for (let day = 0; day < HISTORY_DAYS; day += 1) {
    const from = start + day * 24 * HOUR;
    const to = from + 24 * HOUR;
    for (const { m, events } of byMember) {
      const inDay = events.filter((e) => {
        const at = Date.parse(e.occurred_at);
        return at >= from && at < to;
      });
      if (inDay.length > 0) await postEvents(call, m.agentToken, inDay, tally);
    }
  }
}

async function playScenarios(call: Call, members: Map<string, Member>, end: number, tally: Posting) {
  for (const [i, s] of SCENARIOS.entries()) {
    const victim = members.get(s.ref)!;
    const reporter = members.get(s.reporter ?? s.ref)!;
    const events = s.steps.map((step, j) =>
      makeEvent(
        victim,
        9000 + i * 10 + j,
        end - step.minutesAgo * MINUTE,
        step.type ?? "login",
        step.operation,
        envOf(reporter, 1, {
          ...step,
          ...(step.deviceOf ? { deviceId: members.get(step.deviceOf)!.deviceId } : {}),
          ...(step.ipOf ? { ip: members.get(step.ipOf)!.spec.ip } : {}),
        }),
      ),
    );
    await postEvents(call, reporter.agentToken, events, tally);
  }
}

/**
 * The TikTok Shop outage of the demo, six hours ago: six stores' logins fail with 500s and timeouts within a
 * few minutes (tether detects the incident), and the operators improvise — one switches to a phone hotspot,
 * one retries its login again and again, one edits the profile — while ad budgets keep changing.
 */
const OUTAGE = {
  agoMinutes: 6 * 60,
  failing: ["us-west-09", "us-west-10", "us-west-11", "us-east-01", "us-west-01", "us-west-02"],
  /** a T-Mobile USA address: "let's try the phone's hotspot" */
  hotspotIp: "172.56.21.87",
  switcher: "us-west-09",
  stormer: "us-west-10",
  editor: "us-west-11",
} as const;

async function playOutage(call: Call, members: Map<string, Member>, end: number, tally: Posting) {
  const t0 = end - OUTAGE.agoMinutes * MINUTE;
  const failed = (code: "http_5xx" | "timeout") =>
    ({
      status: "error",
      code,
      ...(code === "http_5xx" ? { http_status: 500, message: "Internal Server Error" } : {}),
    }) as const;
  for (const [i, ref] of OUTAGE.failing.entries()) {
    const m = members.get(ref)!;
    const at = t0 + i * 45_000;
    const event = makeEvent(
      m,
      8000,
      at,
      "login",
      undefined,
      envOf(m, 1),
      failed(i % 2 ? "timeout" : "http_5xx"),
    );
    await postEvents(call, m.agentToken, [event], tally);
  }
  const switcher = members.get(OUTAGE.switcher)!;
  await postEvents(
    call,
    switcher.agentToken,
    [
      makeEvent(
        switcher,
        8001,
        t0 + 6 * MINUTE,
        "login",
        undefined,
        envOf(switcher, 1, { ip: OUTAGE.hotspotIp }),
      ),
      makeEvent(switcher, 8002, t0 + 9 * MINUTE, "operation", "ad_budget_change", envOf(switcher, 1)),
    ],
    tally,
  );
  const stormer = members.get(OUTAGE.stormer)!;
  const storm = Array.from({ length: 6 }, (_, i) =>
    makeEvent(
      stormer,
      8010 + i,
      t0 + 2 * MINUTE + i * 80_000,
      "login",
      undefined,
      envOf(stormer, 1),
      failed("http_5xx"),
    ),
  );
  await postEvents(call, stormer.agentToken, storm, tally);
  const editor = members.get(OUTAGE.editor)!;
  await postEvents(
    call,
    editor.agentToken,
    [makeEvent(editor, 8020, t0 + 11 * MINUTE, "operation", "profile_edit", envOf(editor, 1))],
    tally,
  );
}

/** Every agent says it is alive, as a running agent does every few minutes. */
async function heartbeats(call: Call, members: Map<string, Member>, end: number, tally: Posting) {
  for (const m of members.values()) {
    const beat: EventBody = {
      id: `demo-heartbeat-${m.spec.platform}-${m.spec.ref}`,
      type: "heartbeat",
      occurred_at: new Date(end).toISOString(),
      env: envOf(m, 1),
    };
    await postEvents(call, m.agentToken, [beat], tally);
  }
}

// ——— the report ———

interface AlertJson {
  rule: string;
  severity: string;
  account_ids: string[];
  summary: string;
}

async function openAlerts(call: Call, admin: string): Promise<AlertJson[]> {
  const all: AlertJson[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 20; page += 1) {
    const q: string = `/v1/alerts?status=open&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const res: { alerts: AlertJson[]; next_cursor: string | null } = await call("GET", q, admin);
    all.push(...res.alerts);
    cursor = res.next_cursor;
    if (!cursor) break;
  }
  return all;
}

async function establishedCount(call: Call, admin: string): Promise<number> {
  const res = await call<{ accounts: unknown[] }>("GET", "/v1/accounts?state=established&limit=500", admin);
  return res.accounts.length;
}

function countBy<T>(items: T[], key: (t: T) => string): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function report(
  server: Server,
  admin: string,
  members: Map<string, Member>,
  tally: Posting,
  { alerts, established, clusters, incidents }: Readback,
): { text: string; ok: boolean } {
  const { base } = server;
  const lines: string[] = [];
  const out = (s = "") => lines.push(s);
  const platforms = countBy([...members.values()], (m) => m.spec.platform)
    .map(([p, n]) => `${p} ${n}`)
    .join(", ");
  const groups = countBy(
    [...members.values()].filter((m) => m.spec.group),
    (m) => m.spec.group!,
  )
    .map(([g, n]) => `"${g}" ${n}`)
    .join(", ");

  out("tether demo — running / tether 演示 — 运行中");
  out("");
  out(`  Console / 控制台:           ${base}/  (sign in with the admin token / 用管理员令牌登录)`);
  out(`  Admin token / 管理员令牌:   ${admin}`);
  out(`  Database / 数据库:          ${server.dataDir} (embedded PGlite / 内嵌 PGlite)`);
  out(`  API docs / 接口文档:        ${base}/docs`);
  out(`  OpenAPI / 接口描述:         ${base}/openapi.json`);
  out(`  Alerts API / 告警接口:      ${base}/v1/alerts (Authorization: Bearer …)`);
  out("");
  out("  Try / 试一试:");
  out(`    curl -s -H "Authorization: Bearer ${admin}" "${base}/v1/alerts?status=open&limit=50"`);
  out("");
  out("Simulated matrix / 模拟账号矩阵");
  out(`  Accounts / 账号:            ${members.size} (${platforms}; groups / 分组: ${groups})`);
  out(`  Environments / 环境:        ${members.size}, one agent token each / 每个环境一个 agent 令牌`);
  out(`  Baselines / 基线:           ${established} of ${members.size} established / 已建立`);
  out(
    `  Events posted / 已发送事件: ${tally.posted} in ${tally.requests} requests / 个请求` +
      ` (${tally.accepted} accepted / 已接受), ${HISTORY_DAYS} days / 天`,
  );
  out("");
  out(`Open alerts by rule / 按规则统计的未处理告警 (${alerts.length}):`);
  for (const [rule, n] of countBy(alerts, (a) => a.rule))
    out(`  ${rule.padEnd(24)} ${String(n).padStart(3)}`);
  out("");
  const refOf = new Map([...members.values()].map((m) => [m.id, `${m.spec.platform}/${m.spec.ref}`]));
  out(`Contaminated clusters / 关联污染簇 (${clusters.length}) — GET /v1/associations:`);
  for (const c of clusters) {
    out(`  ${c.account_ids.map((id) => refOf.get(id) ?? id).join(" · ")}  [${c.kinds.join(", ")}]`);
  }
  out(`    curl -s -H "Authorization: Bearer ${admin}" "${base}/v1/associations"`);
  out("");
  const detected = incidents.filter((i) => i.source === "detected");
  out(`Platform incidents / 平台故障 (${incidents.length}):`);
  for (const i of incidents) {
    out(`  ${i.source} · ${i.status} · ${i.started_at} → ${i.ended_at ?? "now"}  ${i.title}`);
    out(
      `    review / 复盘: curl -s -H "Authorization: Bearer ${admin}" "${base}/v1/incidents/${i.id}/review?format=md"`,
    );
  }
  out("");
  out("Scenarios / 场景:");
  let ok = detected.length === 1;
  out(
    `  ${ok ? "✓" : "✗"} platform_incident    tiktok_shop              outage detected from telemetry / 从遥测数据中检测到平台故障`,
  );
  for (const s of SCENARIOS) {
    const m = members.get(s.ref)!;
    const hit = alerts.some((a) => a.rule === s.rule && a.account_ids.includes(m.id));
    ok &&= hit;
    const who = `${m.spec.platform}/${s.ref}`;
    out(`  ${hit ? "✓" : "✗"} ${s.rule.padEnd(20)} ${who.padEnd(23)} ${s.en} / ${s.zh}`);
  }
  const improvised: Array<[string, string, string, string]> = [
    [
      "incident_network_switch",
      OUTAGE.switcher,
      "switched to a phone hotspot during the outage",
      "故障期间改用手机热点",
    ],
    ["retry_storm", OUTAGE.stormer, "retried the login again and again", "反复重试登录"],
    [
      "sensitive_op_during_incident",
      OUTAGE.editor,
      "edited the profile during the outage",
      "故障期间修改资料",
    ],
  ];
  for (const [rule, ref, en, zh] of improvised) {
    const m = members.get(ref)!;
    const hit = alerts.some((a) => a.rule === rule && a.account_ids.includes(m.id));
    ok &&= hit;
    out(`  ${hit ? "✓" : "✗"} ${rule.padEnd(20)} ${`${m.spec.platform}/${ref}`.padEnd(23)} ${en} / ${zh}`);
  }
  const churned = [...members.values()].filter((m) => m.spec.renewedIp || m.spec.updatedUa);
  const churnIds = new Set(churned.map((m) => m.id));
  const noisy = alerts.filter(
    (a) => CHURN_RULES.includes(a.rule) && a.account_ids.some((id) => churnIds.has(id)),
  );
  const renewed = churned.filter((m) => m.spec.renewedIp).length;
  const bumped = churned.filter((m) => m.spec.updatedUa).length;
  out(
    `  ${noisy.length === 0 ? "✓" : "✗"} benign churn / 正常变动: ${churned.length} accounts / 个账号 — ` +
      `IP renewed inside its /24 / 同一 /24 内续租 IP (${renewed}), Chrome 120 → 121 / 浏览器升级 (${bumped})`,
  );
  out(`      ${noisy.length} alerts / 条告警 of ${CHURN_RULES.join(", ")}`);
  for (const a of noisy) out(`      ${a.rule}: ${a.summary}`);
  return { text: `${lines.join("\n")}\n`, ok: ok && noisy.length === 0 };
}

// ——— the command ———

function untilSignalOrExit(server: Server): Promise<"signal" | "exited"> {
  return new Promise((done) => {
    const onSignal = () => done("signal");
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    void server.exited.then(() => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      done("exited");
    });
  });
}

export async function runDemo(argv: string[]): Promise<number> {
  let server: Server | null = null;
  try {
    const options = parseOptions(argv);
    const admin = `ttu_demo_${randomBytes(24).toString("base64url")}`;
    process.stderr.write(`starting tether on 127.0.0.1:${options.port} with a fresh ${DATA_DIR} …\n`);
    server = await startServer(options.port, admin);
    const call = apiClient(server.base);
    const rng = mulberry32(SEED);
    // Whole minutes: reruns shift the timeline, never the shape of it.
    const end = Math.floor(Date.now() / MINUTE) * MINUTE;
    const tally: Posting = { requests: 0, posted: 0, accepted: 0 };

    process.stderr.write("creating accounts and environments, posting 4 days of activity …\n");
    const members = await createMatrix(call, admin, rng);
    await feedHistory(call, members, rng, end, tally);
    await playScenarios(call, members, end, tally);
    await playOutage(call, members, end, tally);
    await heartbeats(call, members, end, tally);
    const readback = {
      alerts: await openAlerts(call, admin),
      established: await establishedCount(call, admin),
      clusters: await clustersOf(call, admin),
      incidents: await incidentsOf(call, admin),
    };
    const summary = report(server, admin, members, tally, readback);
    process.stdout.write(summary.text);

    // With --exit (tests, CI) a scenario that raised no alert, or churn that raised one, fails the run.
    if (options.exit) return summary.ok ? 0 : 1;
    process.stdout.write("\nPress Ctrl+C to stop the server. / 按 Ctrl+C 停止服务器。\n");
    if ((await untilSignalOrExit(server)) === "exited") {
      process.stderr.write("tether demo: the server stopped unexpectedly\n");
      return 1;
    }
    return 0;
  } catch (err) {
    if (!(err instanceof DemoError)) throw err;
    process.stderr.write(`tether demo: ${err.message}\n`);
    return 1;
  } finally {
    if (server) await server.stop();
  }
}
