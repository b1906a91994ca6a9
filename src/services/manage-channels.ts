import type { ChannelKind } from "../core/notify/messages.ts";
import { newWebhookSecret, sealingKey, sealSecret } from "../core/notify/sign.ts";
import { ApiError, notFound, say } from "../errors.ts";
import type { Lang } from "../i18n/index.ts";
import { newId } from "../ids.ts";
import { type Actor, writeAudit } from "../store/audit.ts";
import type { Db } from "../store/db.ts";
import {
  type ChannelRow,
  deleteChannel,
  getChannel,
  insertChannel,
  updateChannel,
} from "../store/notifications.ts";

export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

/** The robots Chinese teams use speak Chinese unless told otherwise; the others English. */
const CHINESE_ROBOTS: ChannelKind[] = ["dingtalk", "feishu", "wecom"];
/** Kinds whose secret the admin brings (the robot's signing secret, PagerDuty's routing key). */
const GIVEN_SECRET: ChannelKind[] = ["dingtalk", "feishu", "pagerduty"];

export interface ChannelContext {
  db: Db;
  /** the token pepper's key: channel secrets are sealed under a key derived from it */
  pepperKey: Buffer;
}

export interface ChannelSettings {
  name: string;
  url: string;
  secret: string | null;
  minSeverity: string;
  rules: string[] | null;
  language: Lang;
  enabled: boolean;
}

/**
 * http or https, no user name or password in it. Loopback and private addresses are allowed: tests and
 * on-premises receivers live there, and only admins configure channels (docs/adr/0018).
 */
export function checkChannelUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badUrl();
  }
  if ((parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.username || parsed.password) {
    throw badUrl();
  }
  return parsed.toString();
}

const badUrl = () =>
  new ApiError("bad_request", say("api.channel_url"), [
    { path: "url", message: "must be an http or https URL without credentials", say: say("api.channel_url") },
  ]);

function checkSecret(kind: ChannelKind, secret: string | null | undefined): void {
  if (kind === "pagerduty" && !secret) {
    throw new ApiError("bad_request", say("api.channel_secret_needed", { kind }), [
      { path: "secret", message: `a ${kind} channel needs its secret` },
    ]);
  }
  if (secret && !GIVEN_SECRET.includes(kind)) {
    throw new ApiError("bad_request", say("api.channel_secret_unused", { kind }), [
      { path: "secret", message: `a ${kind} channel takes no secret` },
    ]);
  }
}

/** Creates a channel; the answer carries its secret (generated for webhooks), the only time it is shown. */
export async function createChannel({
  ctx,
  input,
}: {
  ctx: ChannelContext;
  input: {
    workspaceId: string;
    kind: ChannelKind;
    settings: Omit<ChannelSettings, "url" | "language" | "secret"> & {
      url: string | undefined;
      language: Lang | undefined;
      secret: string | undefined;
    };
    actor: Actor;
    now: Date;
  };
}): Promise<{ channel: ChannelRow; secret: string | null }> {
  const { workspaceId, kind, settings, actor, now } = input;
  checkSecret(kind, settings.secret);
  const url = checkChannelUrl(settings.url ?? (kind === "pagerduty" ? PAGERDUTY_EVENTS_URL : ""));
  const secret = kind === "webhook" ? newWebhookSecret() : (settings.secret ?? null);
  const id = newId("chn");
  const channel = await ctx.db.transaction(async (tx) => {
    const row = await insertChannel(
      tx,
      {
        id,
        workspaceId,
        name: settings.name,
        kind,
        url,
        secretSealed: secret ? sealSecret(sealingKey(ctx.pepperKey), id, secret) : null,
        minSeverity: settings.minSeverity,
        rules: settings.rules,
        language: settings.language ?? (CHINESE_ROBOTS.includes(kind) ? "zh-CN" : "en"),
        enabled: settings.enabled,
      },
      now,
    );
    await writeAudit(tx, workspaceId, actor, now, [
      { action: "channel.created", targetType: "channel", targetId: id, details: { kind } },
    ]);
    return row;
  });
  return { channel, secret };
}

export async function changeChannel({
  ctx,
  input,
}: {
  ctx: ChannelContext;
  input: { workspaceId: string; id: string; patch: Partial<ChannelSettings>; actor: Actor; now: Date };
}): Promise<ChannelRow> {
  const { workspaceId, id, patch, actor, now } = input;
  return ctx.db.transaction(async (tx) => {
    const current = await getChannel(tx, workspaceId, id);
    if (!current) throw notFound("channel");
    if (patch.secret !== undefined) checkSecret(current.kind, patch.secret);
    const { secret, url, ...rest } = patch;
    const row = await updateChannel(
      tx,
      workspaceId,
      id,
      {
        ...rest,
        ...(url !== undefined ? { url: checkChannelUrl(url) } : {}),
        ...(secret !== undefined
          ? { secretSealed: secret ? sealSecret(sealingKey(ctx.pepperKey), id, secret) : null }
          : {}),
      },
      now,
    );
    await writeAudit(tx, workspaceId, actor, now, [
      {
        action: "channel.updated",
        targetType: "channel",
        targetId: id,
        details: { fields: Object.keys(patch) },
      },
    ]);
    return row!;
  });
}

export async function removeChannel({
  ctx,
  input,
}: {
  ctx: Pick<ChannelContext, "db">;
  input: { workspaceId: string; id: string; actor: Actor; now: Date };
}): Promise<ChannelRow> {
  const { workspaceId, id, actor, now } = input;
  return ctx.db.transaction(async (tx) => {
    const row = await deleteChannel(tx, workspaceId, id);
    if (!row) throw notFound("channel");
    await writeAudit(tx, workspaceId, actor, now, [
      { action: "channel.deleted", targetType: "channel", targetId: id, details: { kind: row.kind } },
    ]);
    return row;
  });
}
