import cluster from "node:cluster";
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { systemClock } from "./clock.ts";
import { runPrimary, workerCount } from "./cluster.ts";
import { DRILL_CHECKS } from "./core/drill-verify.ts";
import { ConfigError, parseEnv } from "./env.ts";
import { errorCode, isDatabaseUnavailable } from "./errors.ts";
import { localeLang } from "./i18n/cli.ts";
import { type MessageKey, translator } from "./i18n/index.ts";
import { createLogger, guardDriverFaults, startServer } from "./main.ts";
import { isUniqueViolation } from "./store/accounts.ts";
import { writeAudit } from "./store/audit.ts";
import { DataDirLocked } from "./store/data-dir-lock.ts";
import { DatabaseWaitError, openDatabase } from "./store/db.ts";
import { createWorkspace, findWorkspaceBySlug, issueToken, loadPepper } from "./store/tenancy.ts";

/** Said in the language of LC_ALL / LC_MESSAGES / LANG, like the agent. */
const t = translator(localeLang());

export async function main(argv: string[]): Promise<number> {
  const [command, sub] = argv;
  try {
    switch (command) {
      case "serve":
        return await serveCommand();
      case "migrate":
        return await withDatabase(async () => {
          process.stdout.write(`${t("cli.migrated")}\n`);
        });
      case "token":
        if (sub !== "create") break;
        return await tokenCreate(argv.slice(2));
      case "workspace":
        if (sub !== "create") break;
        return await workspaceCreate(argv.slice(2));
      case "drill":
        if (sub !== "verify") break;
        return await drillVerify(argv.slice(2));
      case "demo": {
        const { runDemo } = await import("./demo.ts");
        return await runDemo(argv.slice(1));
      }
      case undefined:
      case "help":
      case "--help":
        process.stdout.write(t("cli.usage"));
        return command === undefined ? 2 : 0;
    }
    process.stderr.write(`${t("cli.unknown_command", { command: argv.join(" ") })}\n\n${t("cli.usage")}`);
    return 2;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`tether: ${t(err.key, err.params)}\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`tether: ${err.message}\n`);
      return 2;
    }
    const trouble = databaseTrouble(err, command);
    if (trouble) {
      process.stderr.write(`tether: ${trouble}\n`);
      return 1;
    }
    throw err;
  }
}

class UsageError extends Error {
  constructor(
    readonly key: Extract<MessageKey, `cli.${string}`>,
    readonly params: Record<string, string> = {},
  ) {
    super(translator("en")(key, params));
  }
}

/** One line for a database that is away or owned by another process, instead of a stack trace. */
function databaseTrouble(err: unknown, command: string | undefined): string | null {
  if (err instanceof DataDirLocked) {
    return t(command === "serve" ? "cli.dir_locked_serve" : "cli.dir_locked", { dir: err.dir, pid: err.pid });
  }
  if (err instanceof DatabaseWaitError) return err.message;
  if (isDatabaseUnavailable(err)) return t("cli.database_unreachable", { code: String(errorCode(err)) });
  return null;
}

async function serveCommand(): Promise<number> {
  const env = parseEnv();
  const workers = workerCount(env);
  if (workers > 1 && cluster.isPrimary) return runPrimary(env, workers);
  guardDriverFaults(createLogger(env));
  const running = await startServer(env, { prepare: cluster.isPrimary });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await running.stop();
  // A cluster worker stays alive while its channel to the primary is open: close it so the process ends.
  cluster.worker?.disconnect();
  return 0;
}

/** The CLI's audit actor: who ran it on this machine (tokens made here have no token to name). */
const cliActor = () => ({ tokenId: null, name: `cli:${userInfo().username}` });

async function withDatabase(
  fn: (db: Awaited<ReturnType<typeof openDatabase>>, env: ReturnType<typeof parseEnv>) => Promise<void>,
): Promise<number> {
  const env = parseEnv();
  const database = await openDatabase(env);
  try {
    await database.migrate();
    await fn(database, env);
    return 0;
  } finally {
    await database.close();
  }
}

async function tokenCreate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      role: { type: "string" },
      name: { type: "string" },
      workspace: { type: "string", default: "default" },
    },
  });
  const role = values.role;
  if (role !== "viewer" && role !== "reviewer" && role !== "admin") {
    throw new UsageError("cli.token_role");
  }
  return withDatabase(async ({ db }, env) => {
    const ws = await findWorkspaceBySlug(db, values.workspace!);
    if (!ws) throw new UsageError("cli.no_workspace", { slug: values.workspace! });
    const pepper = await loadPepper(db, env.TETHER_TOKEN_PEPPER);
    const now = systemClock.now();
    const secret = await db.transaction(async (tx) => {
      const issued = await issueToken(
        tx,
        { workspaceId: ws.id, kind: "user", role, name: values.name ?? `${role} (cli)` },
        pepper,
        now,
      );
      await writeAudit(tx, ws.id, cliActor(), now, [
        {
          action: "token.issued",
          targetType: "token",
          targetId: issued.token.id,
          details: { kind: "user", role },
        },
      ]);
      return issued.secret;
    });
    process.stdout.write(`${secret}\n`);
  });
}

async function workspaceCreate(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { name: { type: "string" } },
  });
  const slug = positionals[0];
  if (!slug || !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(slug)) throw new UsageError("cli.workspace_slug");
  return withDatabase(async ({ db }, env) => {
    const now = systemClock.now();
    const pepper = await loadPepper(db, env.TETHER_TOKEN_PEPPER);
    try {
      const secret = await db.transaction(async (tx) => {
        const ws = await createWorkspace(tx, { slug, name: values.name ?? slug }, now);
        const issued = await issueToken(
          tx,
          { workspaceId: ws.id, kind: "user", role: "admin", name: "admin (cli)" },
          pepper,
          now,
        );
        await writeAudit(tx, ws.id, cliActor(), now, [
          { action: "workspace.created", targetType: "workspace", targetId: ws.id, details: { slug } },
          {
            action: "token.issued",
            targetType: "token",
            targetId: issued.token.id,
            details: { kind: "user", role: "admin" },
          },
        ]);
        return issued.secret;
      });
      process.stdout.write(`${secret}\n`);
    } catch (err) {
      if (isUniqueViolation(err)) throw new UsageError("cli.workspace_exists", { slug });
      throw err;
    }
  });
}

interface DrillAnswer {
  id: string;
  verdict: "pass" | "fail";
  checked_at: string;
  summary: string;
  accounts: Array<{
    platform: string;
    ref: string;
    checks: Array<{ check: string; ok: boolean; detail: string }>;
  }>;
  failed: Array<{ platform: string; ref: string; checks: Array<{ check: string; detail: string }> }>;
}

/**
 * Asks a running server (its HTTP API, with a user token) whether the accounts are ready for a drill and
 * prints its answer: 0 when they are, 1 when not, 2 when the question could not be asked or answered.
 */
async function drillVerify(args: string[]): Promise<number> {
  let values: ReturnType<typeof parseDrillArgs>;
  try {
    values = parseDrillArgs(args);
  } catch {
    throw new UsageError("cli.drill_usage");
  }
  const base = values.url ?? process.env.TETHER_URL ?? "http://127.0.0.1:8787";
  if (!/^https?:\/\/[^/\s]+/i.test(base)) throw new UsageError("cli.drill_bad_url", { value: base });
  const token = values.token ?? process.env.TETHER_TOKEN;
  if (!token) throw new UsageError("cli.drill_needs_token");
  const query = new URLSearchParams();
  if (values.platform) query.set("platform", values.platform);
  if (values.group) query.set("group", values.group);
  if (values.accounts) query.set("account_ids", values.accounts);
  const url = `${base.replace(/\/+$/, "")}/v1/drills/verify${query.size > 0 ? `?${query}` : ""}`;
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, "accept-language": localeLang() },
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    const reason = cause?.code ?? (err as Error).name ?? String(err);
    process.stderr.write(`tether: ${t("cli.drill_unreachable", { url: base, reason })}\n`);
    return 2;
  }
  const text = await res.text();
  if (res.status !== 200 && res.status !== 412) {
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { error: { message: string } }).error.message;
    } catch {
      // not the API's envelope (a proxy, another server): show what came back
    }
    process.stderr.write(
      `tether: ${t("cli.drill_refused", { url: base, status: String(res.status), message })}\n`,
    );
    return 2;
  }
  if (values.json) {
    process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  } else {
    process.stdout.write(drillTable(JSON.parse(text) as DrillAnswer));
  }
  return res.status === 200 ? 0 : 1;
}

function parseDrillArgs(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    options: {
      platform: { type: "string" },
      group: { type: "string" },
      accounts: { type: "string" },
      json: { type: "boolean" },
      url: { type: "string" },
      token: { type: "string" },
    },
  }).values;
}

/** Terminal columns of a string: CJK and full-width characters take two. */
const columns = (s: string) =>
  [...s].reduce(
    (n, ch) =>
      n +
      (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(
        ch,
      )
        ? 2
        : 1),
    0,
  );
const pad = (s: string, width: number) => s + " ".repeat(Math.max(0, width - columns(s)));

/** The answer as a table of accounts by check, then each failure's detail. */
function drillTable(answer: DrillAnswer): string {
  const headers = [t("cli.drill_col_account"), ...DRILL_CHECKS.map((check) => t(`cli.drill_col_${check}`))];
  const rows = answer.accounts.map((a) => [
    `${a.platform}/${a.ref}`,
    ...DRILL_CHECKS.map((check) => {
      const found = a.checks.find((c) => c.check === check);
      return found?.ok ? t("cli.drill_ok") : t("cli.drill_failed");
    }),
  ]);
  const widths = headers.map((h, i) => Math.max(columns(h), ...rows.map((r) => columns(r[i]!))));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => pad(c, widths[i]!))
      .join("  ")
      .trimEnd()}\n`;
  let out = `${t(answer.verdict === "pass" ? "cli.drill_pass" : "cli.drill_fail", { summary: answer.summary })}\n`;
  if (rows.length > 0) out += `\n${line(headers)}${rows.map(line).join("")}`;
  if (answer.failed.length > 0) {
    out += `\n${t("cli.drill_failures")}\n`;
    for (const a of answer.failed) {
      for (const c of a.checks) out += `  ${a.platform}/${a.ref}  ${c.check}: ${c.detail}\n`;
    }
  }
  return `${out}\n${t("cli.drill_run", { id: answer.id, at: answer.checked_at })}\n`;
}
