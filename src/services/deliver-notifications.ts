import type { Logger } from "pino";
import type { Clock } from "../clock.ts";
import { renderFinding } from "../core/finding-text.ts";
import type { Severity } from "../core/model.ts";
import {
  buildRequest,
  type ChannelKind,
  type Notice,
  type NoticeAlert,
  type NoticeEvent,
} from "../core/notify/messages.ts";
import { openSecret, sealingKey } from "../core/notify/sign.ts";
import type { Lang } from "../i18n/index.ts";
import { newId } from "../ids.ts";
import type { Db } from "../store/db.ts";
import {
  type Attempt,
  type ChannelRow,
  claimDue,
  type DeliveryRow,
  dropMessage,
  getChannel,
  insertDelivery,
  noticeSubjects,
  type OutboxRow,
  pruneNotifications,
  recordAttempt,
  workspaceSlug,
} from "../store/notifications.ts";

export interface DelivererContext {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** the token pepper's key, from which the key that seals channel secrets is derived */
  pepperKey: Buffer;
}

export interface DeliveryOptions {
  /** attempts before a message is given up on (dead) */
  maxAttempts: number;
  /** the first retry's delay; each further one doubles, up to maxDelayMs */
  baseDelayMs: number;
  maxDelayMs: number;
  /** a receiver that has not answered by then has failed this attempt */
  timeoutMs: number;
  /** how long a claimed message is hidden from other workers; longer than the timeout */
  leaseMs: number;
  /** messages claimed per pass */
  batch: number;
  /** injected by tests: the HTTP client and the jitter */
  fetch: typeof fetch;
  random: () => number;
  /** told of every attempt (a metrics counter, by kind and outcome; never a channel's URL) */
  onAttempt?: (kind: ChannelKind, outcome: DeliveryRow["outcome"]) => void;
}

export const DEFAULT_DELIVERY: DeliveryOptions = {
  maxAttempts: 8,
  baseDelayMs: 10_000,
  maxDelayMs: 3_600_000,
  timeoutMs: 10_000,
  leaseMs: 60_000,
  batch: 20,
  fetch: (input, init) => fetch(input, init),
  random: Math.random,
};

interface Outcome {
  outcome: "delivered" | "retry" | "failed";
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** Retry-After, in milliseconds, when the receiver sent one */
  retryAfterMs: number | null;
}

/** Retry-After as seconds or an HTTP date. */
function retryAfterMs(header: string | null, now: Date): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

/**
 * The group robots answer 200 with an error code in the body when they refuse a message (a bad signature, a
 * missing keyword): `errcode` (DingTalk, WeCom) or `code` (Feishu) other than 0.
 */
function robotRefusal(kind: ChannelKind, text: string): string | null {
  if (kind !== "dingtalk" && kind !== "feishu" && kind !== "wecom") return null;
  try {
    const body = JSON.parse(text) as { errcode?: number; code?: number; errmsg?: string; msg?: string };
    const code = body.errcode ?? body.code;
    if (typeof code === "number" && code !== 0) return `${code} ${body.errmsg ?? body.msg ?? ""}`.trim();
  } catch {
    // an answer that is not JSON is judged by its status alone
  }
  return null;
}

/** One HTTP attempt, classified: delivered, worth retrying (network, timeout, 429, 5xx) or failed. */
async function send(
  channel: ChannelRow,
  notice: Notice,
  secret: string | null,
  ctx: DelivererContext,
  options: DeliveryOptions,
): Promise<Outcome> {
  const now = ctx.clock.now();
  const request = buildRequest(
    { kind: channel.kind, url: channel.url, secret, language: channel.language },
    notice,
    now,
  );
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  try {
    const res = await options.fetch(request.url, {
      method: "POST",
      headers: { ...request.headers, "user-agent": "tether-notifications" },
      body: request.body,
      // A redirect could lead the request somewhere its admin did not choose.
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const text = (await res.text()).slice(0, 2_000);
    const base = { statusCode: res.status, durationMs: took(), retryAfterMs: null };
    if (res.ok) {
      const refused = robotRefusal(channel.kind, text);
      return refused
        ? { ...base, outcome: "failed", error: refused }
        : { ...base, outcome: "delivered", error: null };
    }
    const error = `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`;
    if (res.status === 429 || res.status >= 500) {
      return {
        ...base,
        outcome: "retry",
        error,
        retryAfterMs: retryAfterMs(res.headers.get("retry-after"), now),
      };
    }
    return { ...base, outcome: "failed", error };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const error =
      e.name === "TimeoutError" ? `timeout after ${options.timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { outcome: "retry", statusCode: null, error, durationMs: took(), retryAfterMs: null };
  }
}

/** The message of an outbox row in the channel's language, or null when its alerts are all gone. */
async function noticeOf(db: Db, row: OutboxRow, lang: Lang): Promise<Notice | null> {
  const subjects = await noticeSubjects(db, row.workspaceId, row.alertIds);
  if (subjects.alerts.length === 0) return null;
  const ref = (id: string) => {
    const a = subjects.names.get(id);
    return a ? `${a.platform}/${a.ref}` : id;
  };
  const alerts: NoticeAlert[] = subjects.alerts.map((a) => ({
    id: a.id,
    rule: a.rule,
    severity: a.severity as Severity,
    status: a.status,
    sentence: renderFinding(lang, subjects.names, a.rule, a.evidence, a.summary),
    accounts: a.accountIds.map(ref),
    incidentId: a.incidentId,
    incidentTitle: a.incidentId ? (subjects.titles.get(a.incidentId) ?? null) : null,
  }));
  return {
    id: row.id,
    event: row.event as NoticeEvent,
    workspace: await workspaceSlug(db, row.workspaceId),
    groupKey: `${row.workspaceId}:${row.groupKey}`,
    alerts,
  };
}

function unsealed(channel: ChannelRow, ctx: DelivererContext): string | null {
  return channel.secretSealed
    ? openSecret(sealingKey(ctx.pepperKey), channel.id, channel.secretSealed)
    : null;
}

/** One attempt with the channel's secret; a secret sealed under another pepper cannot be opened, so it fails. */
async function attemptSend(
  channel: ChannelRow,
  notice: Notice,
  ctx: DelivererContext,
  options: DeliveryOptions,
): Promise<Outcome> {
  try {
    return await send(channel, notice, unsealed(channel, ctx), ctx, options);
  } catch (err) {
    return {
      outcome: "failed",
      statusCode: null,
      error: (err as Error).message,
      durationMs: 0,
      retryAfterMs: null,
    };
  }
}

/** The delay before attempt `n + 1`: exponential with ±20 % jitter, or what the receiver asked for. */
export function retryDelay(n: number, asked: number | null, options: DeliveryOptions): number {
  if (asked !== null) return Math.min(asked, options.maxDelayMs);
  const exp = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (n - 1));
  return Math.round(exp * (0.8 + 0.4 * options.random()));
}

async function deliverOne(row: OutboxRow, ctx: DelivererContext, options: DeliveryOptions): Promise<void> {
  const now = () => ctx.clock.now();
  const channel = await getChannel(ctx.db, row.workspaceId, row.channelId);
  const notice = channel?.enabled ? await noticeOf(ctx.db, row, channel.language) : null;
  if (!channel || !notice) {
    await dropMessage(ctx.db, row.id, now());
    return;
  }
  const attempt = row.attempts + 1;
  const result = await attemptSend(channel, notice, ctx, options);
  const outcome = result.outcome === "retry" && attempt >= options.maxAttempts ? "failed" : result.outcome;
  const log: Attempt = {
    workspaceId: row.workspaceId,
    channelId: channel.id,
    outboxId: row.id,
    event: row.event,
    attempt,
    outcome,
    statusCode: result.statusCode,
    error: result.error,
    durationMs: result.durationMs,
  };
  const at = now();
  const retryAt =
    outcome === "retry" ? new Date(at.getTime() + retryDelay(attempt, result.retryAfterMs, options)) : null;
  await recordAttempt(ctx.db, log, retryAt, at);
  options.onAttempt?.(channel.kind, outcome);
  if (outcome !== "delivered") {
    ctx.logger.warn(
      { channel: channel.id, kind: channel.kind, attempt, status: result.statusCode, outcome },
      "notification not delivered",
    );
  }
}

/** How long delivered and dead messages, and the log of attempts, are kept. */
export const NOTIFICATION_RETENTION_DAYS = 30;

/** Drops what is older than the retention, so the outbox and the log do not grow without end. */
export async function pruneDelivered({ ctx }: { ctx: Pick<DelivererContext, "db" | "clock"> }) {
  const before = new Date(ctx.clock.now().getTime() - NOTIFICATION_RETENTION_DAYS * 86_400_000);
  return pruneNotifications(ctx.db, before);
}

/** One pass: claims the due messages and attempts each once. Answers how many were claimed. */
export async function deliverDue({
  ctx,
  options = DEFAULT_DELIVERY,
}: {
  ctx: DelivererContext;
  options?: DeliveryOptions;
}): Promise<number> {
  const claimed = await claimDue(ctx.db, ctx.clock.now(), options.leaseMs, options.batch);
  await Promise.all(claimed.map((row) => deliverOne(row, ctx, options)));
  return claimed.length;
}

/** Sends a test message to a channel now, once, and answers the logged attempt. */
export async function sendTestMessage({
  ctx,
  input,
  options = DEFAULT_DELIVERY,
}: {
  ctx: DelivererContext;
  input: { channel: ChannelRow };
  options?: DeliveryOptions;
}): Promise<DeliveryRow> {
  const { channel } = input;
  const notice: Notice = {
    id: newId("msg"),
    event: "test",
    workspace: await workspaceSlug(ctx.db, channel.workspaceId),
    groupKey: `${channel.workspaceId}:test`,
    alerts: [],
  };
  const result = await attemptSend(channel, notice, ctx, options);
  const outcome = result.outcome === "delivered" ? "delivered" : "failed";
  options.onAttempt?.(channel.kind, outcome);
  return insertDelivery(
    ctx.db,
    {
      workspaceId: channel.workspaceId,
      channelId: channel.id,
      outboxId: null,
      event: "test",
      attempt: 1,
      outcome,
      statusCode: result.statusCode,
      error: result.error,
      durationMs: result.durationMs,
    },
    ctx.clock.now(),
  );
}

const PRUNE_EVERY_MS = 3_600_000;

export interface Deliverer {
  stop(): Promise<void>;
}

/**
 * Delivers in the background until stopped: a pass every `intervalMs`, or at once again while passes find
 * full batches. Several processes may run it (claims skip each other's rows). A failed pass is logged and
 * the next one tries again.
 */
export function startDeliverer({
  ctx,
  options = DEFAULT_DELIVERY,
  intervalMs = 2_000,
}: {
  ctx: DelivererContext;
  options?: DeliveryOptions;
  intervalMs?: number;
}): Deliverer {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let prunedAt = 0;
  const pass = async (): Promise<void> => {
    let claimed = 0;
    try {
      claimed = await deliverDue({ ctx, options });
      if (ctx.clock.now().getTime() - prunedAt >= PRUNE_EVERY_MS) {
        prunedAt = ctx.clock.now().getTime();
        await pruneDelivered({ ctx });
      }
    } catch (err) {
      ctx.logger.error({ err }, "notification delivery pass failed");
    } finally {
      if (!stopped) {
        timer = setTimeout(
          () => {
            running = pass();
          },
          claimed >= options.batch ? 0 : intervalMs,
        );
        timer.unref();
      }
    }
  };
  let running = pass();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
