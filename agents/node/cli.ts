/**
 * `tether-agent`: the workstation agent. It loads none of the server's code or dependencies; exit codes are
 * 0 allow, 10 warn, 20 deny (check, exec), 1 an error, 2 a usage error, 3 an event refused by a full spool.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
// The pure core's model has no runtime imports: the agent shares the one list of sensitive operations (frozen
// during an incident, so fail-closed when unchecked) instead of copying it.
import { SENSITIVE_OPERATIONS } from "../../src/core/model.ts";
import { type MessageKey, translator } from "../../src/i18n/index.ts";
import { type EventBody, type PreflightResponse, TetherClient, Unreachable, type Whoami } from "./client.ts";
import {
  type AgentConfig,
  ConfigMissing,
  configDir,
  readConfig,
  UNREACHABLE_POLICIES,
  type UnreachablePolicy,
  writeConfig,
} from "./config.ts";
import { deviceId, machineIdentity } from "./device.ts";
import {
  agentUserAgent,
  describeEnvironment,
  type EventEnv,
  type ProfileFile,
  readProfileFile,
} from "./environment.ts";
import { flushSpool } from "./flush.ts";
import { acceptLanguage, decisionWord, type Lang, pickLang, reasonLine, say } from "./i18n.ts";
import { proxiedFetch } from "./proxy.ts";
import { Spool, SpoolFull } from "./spool.ts";

export const VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

export const EXIT = { allow: 0, warn: 10, deny: 20, error: 1, usage: 2, spoolFull: 3 } as const;

/** A usage error in the catalogue's words, said in the agent's language when it is reported. */
class UsageError extends Error {
  constructor(
    readonly key: AgentKey,
    readonly params: Record<string, string | number> = {},
  ) {
    super(translator("en")(key, params));
  }
}
type AgentKey = Extract<MessageKey, `agent.${string}`>;

const words = (lang: Lang) => translator(lang === "zh" ? "zh-CN" : "en");

/** Node's own parse errors, said again by what they name: their English would not read in Chinese. */
function parseArgsUsage(err: Error & { code?: string }): UsageError | null {
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? "";
  if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION")
    return new UsageError("agent.unknown_option", { option: quoted });
  if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE")
    return new UsageError("agent.option_value", { option: quoted.split(" ")[0] ?? quoted });
  if (err.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL")
    return new UsageError("agent.unexpected_argument", { argument: quoted });
  return null;
}

class AgentError extends Error {}

const COMMON = {
  "config-dir": { type: "string" },
  lang: { type: "string" },
  proxy: { type: "string" },
  "profile-file": { type: "string" },
  profile: { type: "string" },
  "on-unreachable": { type: "string" },
  // the name the shell agent and the Python module use for the same policy
  "offline-policy": { type: "string" },
} as const;

const SLUG = /^[a-z0-9_]{1,64}$/;
const PLATFORM = /^[a-z0-9_]{1,32}$/;

function parseAccount(value: string | undefined): { platform: string; ref: string } {
  if (!value) throw new UsageError("agent.account_required");
  const at = value.indexOf(":");
  const platform = value.slice(0, at);
  const ref = value.slice(at + 1);
  if (at < 1 || !PLATFORM.test(platform) || ref.length < 1 || ref.length > 128 || /\p{C}/u.test(ref))
    throw new UsageError("agent.account_format", { value });
  return { platform, ref };
}

function parseOp(value: string | undefined, required: boolean): string | undefined {
  if (value === undefined) {
    if (required) throw new UsageError("agent.op_required");
    return undefined;
  }
  if (!SLUG.test(value)) throw new UsageError("agent.op_format", { value });
  return value;
}

/** 60, 60s, 5m, 1h, 500ms → milliseconds */
export function parseDuration(value: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new UsageError("agent.duration_format", { option: what, value });
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  const ms = Number(m[1]) * unit;
  if (ms <= 0) throw new UsageError("agent.duration_positive", { option: what });
  return ms;
}

interface Context {
  lang: Lang;
  dir: string;
  config: AgentConfig;
  spool: Spool;
  client: TetherClient;
  profileFile: ProfileFile | undefined;
  proxy: string | undefined;
  out: (line: string) => void;
  err: (line: string) => void;
}

type Values = Record<string, string | boolean | undefined>;

async function open(values: Values, lang: Lang): Promise<Context> {
  const dir = (values["config-dir"] as string | undefined) ?? configDir();
  let config: AgentConfig;
  try {
    config = readConfig(dir);
  } catch (err) {
    if (err instanceof ConfigMissing)
      throw new AgentError(
        `no agent config at ${err.message}: run tether-agent init --server URL --token T first`,
      );
    throw err;
  }
  const profilePath = (values["profile-file"] as string | undefined) ?? config.profile_file;
  const profileFile = profilePath ? readProfileFile(profilePath) : undefined;
  const proxy = (values.proxy as string | undefined) ?? profileFile?.proxy ?? config.proxy;
  const maxBytes = Number(process.env.TETHER_AGENT_SPOOL_MAX_BYTES ?? config.spool_max_bytes ?? Number.NaN);
  const spool = new Spool(dir, Number.isFinite(maxBytes) && maxBytes > 0 ? maxBytes : undefined);
  const client = new TetherClient({
    base: config.server,
    token: config.token,
    userAgent: agentUserAgent(VERSION),
    language: acceptLanguage(lang),
    timeoutMs: 10_000,
    fetch: await proxiedFetch(proxy),
  });
  if (values.profile) config.profile = values.profile as string;
  return {
    lang,
    dir,
    config,
    spool,
    client,
    profileFile,
    proxy,
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
  };
}

/** How long an egress IP seen through the proxy is trusted when the server cannot be asked again. */
const EGRESS_FRESH_MS = 60_000;
const EGRESS_STALE_MS = 3_600_000;

/** The account's public egress IP as the server sees it, through the configured proxy; cached briefly. */
async function egressIp(ctx: Context): Promise<string | null> {
  const key = ctx.proxy ?? "";
  const cached = ctx.spool.readState().egress;
  const age = cached && cached.proxy === key ? Date.now() - Date.parse(cached.at) : Number.POSITIVE_INFINITY;
  if (cached && age < EGRESS_FRESH_MS) return cached.ip;
  try {
    const answer = await ctx.client.whoami();
    const ip = answer.ok ? (answer.body as Whoami).source_ip : null;
    if (ip) {
      ctx.spool.writeState({ egress: { proxy: key, ip, at: new Date().toISOString() } });
      return ip;
    }
  } catch (err) {
    if (!(err instanceof Unreachable)) throw err;
  }
  return cached && age < EGRESS_STALE_MS ? cached.ip : null;
}

async function environment(ctx: Context): Promise<EventEnv> {
  return describeEnvironment({
    version: VERSION,
    deviceId: deviceId(ctx.config.workspace_id, machineIdentity()),
    ip: await egressIp(ctx),
    ...(ctx.config.profile ? { profileLabel: ctx.config.profile } : {}),
    ...(ctx.profileFile ? { profileFile: ctx.profileFile } : {}),
  });
}

/** Appends, then tries once to send what is pending; the event is safe on disk either way. */
async function record(ctx: Context, event: EventBody): Promise<number> {
  try {
    const { droppedHeartbeats } = await ctx.spool.append(event);
    if (droppedHeartbeats) ctx.err(say(ctx.lang, "dropped", { n: droppedHeartbeats }));
  } catch (err) {
    if (!(err instanceof SpoolFull)) throw err;
    ctx.err(say(ctx.lang, "full", { why: err.message }));
    return EXIT.spoolFull;
  }
  ctx.out(say(ctx.lang, "spooled", { id: event.id, pending: ctx.spool.stats().pending }));
  const result = await flushSpool(ctx.spool, ctx.client, { budgetMs: 0, waitForLock: false });
  if (result.rejected)
    ctx.err(say(ctx.lang, "rejected", { n: result.rejected, path: ctx.spool.rejectedPath }));
  if (result.busy) ctx.out(say(ctx.lang, "busy"));
  else if (result.error) ctx.err(say(ctx.lang, "notSent", { why: result.error }));
  else ctx.out(say(ctx.lang, "sent", { sent: result.sent }));
  return EXIT.allow;
}

function newEvent(fields: Omit<EventBody, "id" | "occurred_at">): EventBody {
  return { id: `ta_${randomUUID()}`, occurred_at: new Date().toISOString(), ...fields } as EventBody;
}

// ——— commands ———

async function init(argv: string[], lang: Lang): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...COMMON, server: { type: "string" }, token: { type: "string" } },
  });
  if (!values.server || !values.token) throw new UsageError("agent.init_needs");
  const policy = values["on-unreachable"];
  if (policy !== undefined && !UNREACHABLE_POLICIES.includes(policy as UnreachablePolicy))
    throw new UsageError("agent.policy", { policies: UNREACHABLE_POLICIES.join(", ") });
  const profileFile = values["profile-file"] ? readProfileFile(values["profile-file"]) : undefined;
  const proxy = values.proxy ?? profileFile?.proxy;
  const client = new TetherClient({
    base: values.server,
    token: values.token,
    userAgent: agentUserAgent(VERSION),
    language: acceptLanguage(lang),
    timeoutMs: 15_000,
    fetch: await proxiedFetch(proxy),
  });
  let answer: Awaited<ReturnType<TetherClient["whoami"]>>;
  try {
    answer = await client.whoami();
  } catch (err) {
    if (err instanceof Unreachable) throw new AgentError(say(lang, "unreachable", { why: err.message }));
    throw err;
  }
  if (!answer.ok)
    throw new AgentError(`the server refused the token: ${answer.status} ${JSON.stringify(answer.body)}`);
  const who = answer.body as Whoami;
  const dir = values["config-dir"] ?? configDir();
  const config: AgentConfig = { server: client.base, token: values.token, workspace_id: who.workspace.id };
  if (values.profile) config.profile = values.profile;
  if (values.proxy) config.proxy = values.proxy;
  if (values["profile-file"]) config.profile_file = resolve(values["profile-file"]);
  if (policy) config.on_unreachable = policy as UnreachablePolicy;
  const path = writeConfig(dir, config);
  process.stdout.write(
    `wrote ${path} (mode 0600)\nworkspace ${who.workspace.slug}, token ${who.name} (${who.kind}), ` +
      `source IP ${who.source_ip ?? "unknown"}\n`,
  );
  return EXIT.allow;
}

async function whoami(argv: string[], lang: Lang): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...COMMON, json: { type: "boolean" } } });
  const ctx = await open(values, lang);
  let answer: Awaited<ReturnType<TetherClient["whoami"]>>;
  try {
    answer = await ctx.client.whoami();
  } catch (err) {
    if (err instanceof Unreachable) throw new AgentError(say(lang, "unreachable", { why: err.message }));
    throw err;
  }
  if (!answer.ok) throw new AgentError(`${answer.status} ${JSON.stringify(answer.body)}`);
  const who = answer.body as Whoami;
  if (who.source_ip)
    ctx.spool.writeState({
      egress: { proxy: ctx.proxy ?? "", ip: who.source_ip, at: new Date().toISOString() },
    });
  const env = await environment(ctx);
  if (values.json) {
    ctx.out(JSON.stringify({ whoami: who, env, proxy: ctx.proxy ?? null }));
    return EXIT.allow;
  }
  ctx.out(`server      ${ctx.config.server}`);
  ctx.out(`token       ${who.name} (${who.kind}, ${who.role}), workspace ${who.workspace.slug}`);
  ctx.out(`environment ${who.environment_id ?? "-"}`);
  ctx.out(`source IP   ${who.source_ip ?? "unknown"}${ctx.proxy ? ` (through ${redact(ctx.proxy)})` : ""}`);
  ctx.out(`device id   ${env.device_id}`);
  ctx.out(`user agent  ${env.user_agent}`);
  ctx.out(`timezone    ${env.timezone ?? "-"}   locale ${env.locale ?? "-"}   profile ${env.profile ?? "-"}`);
  return EXIT.allow;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

async function report(argv: string[], lang: Lang): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...COMMON,
      account: { type: "string" },
      type: { type: "string", default: "login" },
      op: { type: "string" },
      status: { type: "string" },
      code: { type: "string" },
      message: { type: "string" },
      operator: { type: "string" },
      id: { type: "string" },
    },
  });
  const type = values.type;
  if (type !== "login" && type !== "operation" && type !== "heartbeat")
    throw new UsageError("agent.type", { value: String(type) });
  const account = type === "heartbeat" && !values.account ? undefined : parseAccount(values.account);
  const op = parseOp(values.op, type === "operation");
  if (values.status !== undefined && values.status !== "ok" && values.status !== "error")
    throw new UsageError("agent.status", { value: String(values.status) });
  if (values.code !== undefined && !SLUG.test(values.code))
    throw new UsageError("agent.code", { value: String(values.code) });
  if (values.id !== undefined && (values.id.length < 1 || values.id.length > 128))
    throw new UsageError("agent.id");
  const ctx = await open(values, lang);
  const event = newEvent({
    type,
    ...(account ? { account } : {}),
    ...(op ? { operation: op } : {}),
    ...(values.operator ? { operator: values.operator } : {}),
    ...(values.status || values.code
      ? {
          result: {
            status: (values.status as "ok" | "error" | undefined) ?? (values.code ? "error" : "ok"),
            ...(values.code ? { code: values.code } : {}),
            ...(values.message ? { message: values.message } : {}),
          },
        }
      : {}),
    env: await environment(ctx),
  });
  if (values.id) event.id = values.id;
  return record(ctx, event);
}

function policyOf(ctx: Context, flag: string | undefined): UnreachablePolicy {
  // flag, then the environment (shared with the shell agent and the Python module), then the config file
  const policy =
    flag ?? (process.env.TETHER_OFFLINE_POLICY || undefined) ?? ctx.config.on_unreachable ?? "auto";
  if (!UNREACHABLE_POLICIES.includes(policy as UnreachablePolicy))
    throw new UsageError("agent.policy", { policies: UNREACHABLE_POLICIES.join(", ") });
  return policy as UnreachablePolicy;
}

interface Decision {
  decision: "allow" | "warn" | "deny";
  /** the server's answer, or null when the server-down policy decided */
  response: PreflightResponse | null;
  exit: number;
}

async function preflight(
  ctx: Context,
  account: { platform: string; ref: string },
  op: string,
  flag: string | undefined,
): Promise<Decision> {
  const env = await environment(ctx);
  const who = `${account.platform}:${account.ref}`;
  let why: string;
  try {
    const answer = await ctx.client.preflight({ account, operation: op, env });
    if (answer.status === 200) {
      const response = answer.body as PreflightResponse;
      ctx.out(
        say(ctx.lang, "decision", { account: who, op, decision: decisionWord(ctx.lang, response.decision) }),
      );
      for (const r of response.reasons) ctx.out(reasonLine(ctx.lang, r));
      if (response.incident) ctx.out(say(ctx.lang, "incident", { title: response.incident.title }));
      return { decision: response.decision, response, exit: EXIT[response.decision] };
    }
    if (answer.status < 500 && answer.status !== 429)
      throw new AgentError(`preflight refused: ${answer.status} ${JSON.stringify(answer.body)}`);
    why = `${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`;
  } catch (err) {
    if (!(err instanceof Unreachable)) throw err;
    why = err.message;
  }
  ctx.err(say(ctx.lang, "unreachable", { why }));
  const policy = policyOf(ctx, flag);
  const sensitive = [...SENSITIVE_OPERATIONS, ...(ctx.config.sensitive_ops ?? [])].includes(op);
  const closed = policy === "fail-closed" || (policy === "auto" && sensitive);
  const label = policy === "auto" ? `auto/${sensitive ? "sensitive" : "not sensitive"}` : policy;
  if (closed) {
    ctx.err(say(ctx.lang, "policyClosed", { policy: label, op }));
    return { decision: "deny", response: null, exit: EXIT.deny };
  }
  ctx.err(say(ctx.lang, "policyOpen", { policy: label, op }));
  return { decision: "warn", response: null, exit: EXIT.warn };
}

async function check(argv: string[], lang: Lang): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...COMMON, account: { type: "string" }, op: { type: "string" } },
  });
  const account = parseAccount(values.account);
  const op = parseOp(values.op, true)!;
  const ctx = await open(values, lang);
  return (await preflight(ctx, account, op, values["on-unreachable"] ?? values["offline-policy"])).exit;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

async function exec(argv: string[], lang: Lang): Promise<number> {
  const dash = argv.indexOf("--");
  if (dash < 0 || dash === argv.length - 1) throw new UsageError("agent.exec_needs");
  const { values } = parseArgs({
    args: argv.slice(0, dash),
    options: {
      ...COMMON,
      account: { type: "string" },
      op: { type: "string" },
      force: { type: "boolean", default: false },
      operator: { type: "string" },
    },
  });
  const command = argv.slice(dash + 1);
  const account = parseAccount(values.account);
  const op = parseOp(values.op, true)!;
  const ctx = await open(values, lang);
  const decision = await preflight(ctx, account, op, values["on-unreachable"] ?? values["offline-policy"]);
  const who = `${account.platform}:${account.ref}`;
  if (decision.decision === "deny" && !values.force) {
    ctx.err(say(lang, "refused", { account: who, op }));
    return EXIT.deny;
  }
  const forced = decision.decision === "deny";
  if (forced) ctx.err(say(lang, "forced", { account: who, op, decision: decision.decision }));
  const started = Date.now();
  const child = spawn(command[0]!, command.slice(1), { stdio: "inherit" });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const { code, signal, error } = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    error: Error | null;
  }>((done) => {
    child.once("error", (e) => done({ code: null, signal: null, error: e }));
    child.once("exit", (c, s) => done({ code: c, signal: s, error: null }));
  });
  process.off("SIGINT", forward);
  process.off("SIGTERM", forward);
  const exitCode = error ? 127 : (code ?? 128 + (SIGNALS[signal ?? ""] ?? 0));
  if (error) ctx.err(`tether-agent: cannot run ${command[0]}: ${error.message}`);
  const type = op === "login" ? "login" : "operation";
  const event = newEvent({
    type,
    account,
    ...(type === "operation" ? { operation: op } : {}),
    ...(values.operator ? { operator: values.operator } : {}),
    result:
      exitCode === 0
        ? { status: "ok" }
        : { status: "error", code: "command_failed", message: `exit code ${exitCode}` },
    env: await environment(ctx),
    attributes: {
      exit_code: exitCode,
      duration_ms: Date.now() - started,
      preflight: decision.response ? decision.decision : "unreachable",
      ...(forced ? { forced: true } : {}),
    },
  });
  const recorded = await record(ctx, event);
  return exitCode !== 0 ? exitCode : recorded;
}

async function heartbeat(argv: string[], lang: Lang): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...COMMON, every: { type: "string" }, account: { type: "string" } },
  });
  const every = values.every === undefined ? null : parseDuration(values.every, "--every");
  const account = values.account ? parseAccount(values.account) : undefined;
  const ctx = await open(values, lang);
  const beat = async () =>
    record(
      ctx,
      newEvent({ type: "heartbeat", ...(account ? { account } : {}), env: await environment(ctx) }),
    );
  if (every === null) return beat();
  let stopped = false;
  let wake: (() => void) | null = null;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  // `on`, not `once`: proper-lockfile's signal-exit re-raises a signal when no other listener is left.
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  let last: number = EXIT.allow;
  while (!stopped) {
    last = await beat();
    if (stopped) break;
    await new Promise<void>((r) => {
      wake = r;
      setTimeout(r, every);
    });
  }
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  return last === EXIT.spoolFull ? last : EXIT.allow;
}

async function flush(argv: string[], lang: Lang): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...COMMON, "max-time": { type: "string" } } });
  const budgetMs = parseDuration(values["max-time"] ?? "60s", "--max-time");
  const ctx = await open(values, lang);
  const result = await flushSpool(ctx.spool, ctx.client, {
    budgetMs,
    waitForLock: true,
    onWait: ({ reason, waitMs }) => ctx.err(`retrying in ${(waitMs / 1000).toFixed(1)} s: ${reason}`),
  });
  if (result.rejected) ctx.err(say(lang, "rejected", { n: result.rejected, path: ctx.spool.rejectedPath }));
  if (result.error) {
    ctx.err(say(lang, "flushFailed", { why: result.error, pending: result.pending }));
    return EXIT.error;
  }
  ctx.out(say(lang, "flushed", { sent: result.sent, pending: result.pending }));
  return EXIT.allow;
}

async function status(argv: string[], lang: Lang): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...COMMON, json: { type: "boolean" } } });
  const ctx = await open(values, lang);
  const stats = ctx.spool.stats();
  const state = ctx.spool.readState();
  let reachable: boolean;
  let detail: string;
  try {
    const answer = await new TetherClient({
      base: ctx.config.server,
      token: ctx.config.token,
      timeoutMs: 3_000,
      fetch: await proxiedFetch(ctx.proxy),
    }).request("GET", "/v1/whoami", undefined, { retryBudgetMs: 0 });
    reachable = true;
    detail = answer.ok ? "ok" : `answered ${answer.status}`;
  } catch (err) {
    if (!(err instanceof Unreachable)) throw err;
    reachable = false;
    detail = err.message;
  }
  const summary = {
    version: VERSION,
    config_dir: ctx.dir,
    server: ctx.config.server,
    reachable,
    server_detail: detail,
    spool: {
      pending: stats.pending,
      oldest: stats.oldest,
      bytes: stats.bytes,
      max_bytes: ctx.spool.maxBytes,
      corrupt: stats.corrupt,
    },
    last_error: state.last_error ?? null,
    last_error_at: state.last_error_at ?? null,
    last_flush_at: state.last_flush_at ?? null,
  };
  if (values.json) {
    ctx.out(JSON.stringify(summary));
    return EXIT.allow;
  }
  ctx.out(`tether-agent ${VERSION}   config ${ctx.dir}`);
  ctx.out(`server      ${ctx.config.server}  ${reachable ? "reachable" : "UNREACHABLE"} (${detail})`);
  ctx.out(
    `spool       ${stats.pending} pending, oldest ${stats.oldest ?? "-"}, ${stats.bytes} of ${ctx.spool.maxBytes} bytes` +
      (stats.corrupt ? `, ${stats.corrupt} torn line(s) skipped` : ""),
  );
  ctx.out(`last flush  ${state.last_flush_at ?? "-"}`);
  ctx.out(`last error  ${state.last_error ? `${state.last_error_at} ${state.last_error}` : "-"}`);
  return EXIT.allow;
}

const COMMANDS: Record<string, (argv: string[], lang: Lang) => Promise<number>> = {
  init,
  whoami,
  report,
  check,
  exec,
  heartbeat,
  flush,
  status,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "--version" || command === "-v") {
    process.stdout.write(`tether-agent ${VERSION}\n`);
    return EXIT.allow;
  }
  const langFlag = rest.indexOf("--lang");
  const lang = pickLang(langFlag >= 0 ? rest[langFlag + 1] : undefined);
  const t = words(lang);
  if (!command || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(t("agent.usage"));
    return command ? EXIT.allow : EXIT.usage;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`tether-agent: ${t("agent.unknown_command", { command })}\n${t("agent.usage")}`);
    return EXIT.usage;
  }
  try {
    return await run(rest, lang);
  } catch (err) {
    const usage = err instanceof UsageError ? err : parseArgsUsage(err as Error & { code?: string });
    // English is the error's own message: Node's parse errors keep their fuller wording there.
    const message = usage && lang === "zh" ? t(usage.key, usage.params) : (err as Error).message;
    process.stderr.write(`tether-agent ${command}: ${message}\n`);
    if (usage || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(t("agent.usage"));
      return EXIT.usage;
    }
    return EXIT.error;
  }
}
