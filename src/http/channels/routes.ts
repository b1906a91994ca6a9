import { createRoute, z } from "@hono/zod-openapi";
import { notFound } from "../../errors.ts";
import { sendTestMessage } from "../../services/deliver-notifications.ts";
import { changeChannel, createChannel, removeChannel } from "../../services/manage-channels.ts";
import { writeAudit } from "../../store/audit.ts";
import { getChannel, listChannels, listDeliveries } from "../../store/notifications.ts";
import type { AppDeps } from "../context.ts";
import { ADMIN } from "../middleware/auth.ts";
import { errorResponses, IdParam, jsonBody, jsonResponse, ListQuery, newRouter } from "../openapi.ts";
import { decodeCursor, page } from "../pagination.ts";
import { access } from "../roles.ts";
import {
  ChannelSchema,
  CreateChannel,
  channelJson,
  DeliverySchema,
  deliveryJson,
  PatchChannel,
} from "./schemas.ts";

const tags = ["channels"];

const create = createRoute({
  method: "post",
  path: "/v1/channels",
  tags,
  summary: "Add a notification channel; a webhook's generated secret is in `secret`, shown once",
  ...access(...ADMIN),
  request: { body: jsonBody(CreateChannel) },
  responses: {
    201: jsonResponse(ChannelSchema.extend({ secret: z.string().nullable() }), "Created"),
    ...errorResponses(400, 401, 403),
  },
});

const list = createRoute({
  method: "get",
  path: "/v1/channels",
  tags,
  summary: "List notification channels (never their secrets), newest first",
  ...access(...ADMIN),
  request: { query: z.object(ListQuery) },
  responses: {
    200: jsonResponse(
      z.object({ channels: z.array(ChannelSchema), next_cursor: z.string().nullable() }),
      "A page",
    ),
    ...errorResponses(400, 401, 403),
  },
});

const read = createRoute({
  method: "get",
  path: "/v1/channels/{id}",
  tags,
  summary: "One notification channel",
  ...access(...ADMIN),
  request: { params: IdParam },
  responses: { 200: jsonResponse(ChannelSchema, "The channel"), ...errorResponses(401, 403, 404) },
});

const patch = createRoute({
  method: "patch",
  path: "/v1/channels/{id}",
  tags,
  summary: "Change a channel: name, URL, secret, filters, language, enabled",
  ...access(...ADMIN),
  request: { params: IdParam, body: jsonBody(PatchChannel) },
  responses: { 200: jsonResponse(ChannelSchema, "Changed"), ...errorResponses(400, 401, 403, 404) },
});

const remove = createRoute({
  method: "delete",
  path: "/v1/channels/{id}",
  tags,
  summary: "Delete a channel and the messages it still owed; its delivery log stays",
  ...access(...ADMIN),
  request: { params: IdParam },
  responses: { 200: jsonResponse(ChannelSchema, "Deleted"), ...errorResponses(401, 403, 404) },
});

const deliveries = createRoute({
  method: "get",
  path: "/v1/channels/{id}/deliveries",
  tags,
  summary: "Every delivery attempt to a channel, newest first",
  ...access(...ADMIN),
  request: { params: IdParam, query: z.object(ListQuery) },
  responses: {
    200: jsonResponse(
      z.object({ deliveries: z.array(DeliverySchema), next_cursor: z.string().nullable() }),
      "A page",
    ),
    ...errorResponses(400, 401, 403, 404),
  },
});

const test = createRoute({
  method: "post",
  path: "/v1/channels/{id}/test",
  tags,
  summary: "Send a test message now, once; the answer is the attempt, delivered or failed",
  ...access(...ADMIN),
  request: { params: IdParam },
  responses: { 200: jsonResponse(DeliverySchema, "The attempt"), ...errorResponses(401, 403, 404) },
});

export function channelsRouter(deps: AppDeps) {
  const db = deps.database.db;
  const ctx = async () => ({ db, pepperKey: (await deps.authCache.pepper(db)).key });
  const actorOf = (auth: { tokenId: string; tokenName: string }) => ({
    tokenId: auth.tokenId,
    name: auth.tokenName,
  });
  return newRouter()
    .openapi(create, async (c) => {
      const auth = c.get("auth");
      const b = c.req.valid("json");
      const { channel, secret } = await createChannel({
        ctx: await ctx(),
        input: {
          workspaceId: auth.workspaceId,
          kind: b.kind,
          settings: {
            name: b.name,
            url: b.url,
            secret: b.secret,
            minSeverity: b.min_severity,
            rules: b.rules,
            language: b.language,
            enabled: b.enabled,
          },
          actor: actorOf(auth),
          now: deps.clock.now(),
        },
      });
      return c.json({ ...channelJson(channel), secret: channel.kind === "webhook" ? secret : null }, 201);
    })
    .openapi(list, async (c) => {
      const auth = c.get("auth");
      const q = c.req.valid("query");
      const found = page(await listChannels(db, auth.workspaceId, q.limit, decodeCursor(q.cursor)), q.limit);
      return c.json({ channels: found.items.map(channelJson), next_cursor: found.next_cursor }, 200);
    })
    .openapi(read, async (c) => {
      const row = await getChannel(db, c.get("auth").workspaceId, c.req.valid("param").id);
      if (!row) throw notFound("channel");
      return c.json(channelJson(row), 200);
    })
    .openapi(patch, async (c) => {
      const auth = c.get("auth");
      const b = c.req.valid("json");
      const row = await changeChannel({
        ctx: await ctx(),
        input: {
          workspaceId: auth.workspaceId,
          id: c.req.valid("param").id,
          patch: {
            ...(b.name !== undefined ? { name: b.name } : {}),
            ...(b.url !== undefined ? { url: b.url } : {}),
            ...(b.secret !== undefined ? { secret: b.secret } : {}),
            ...(b.min_severity !== undefined ? { minSeverity: b.min_severity } : {}),
            ...(b.rules !== undefined ? { rules: b.rules } : {}),
            ...(b.language !== undefined ? { language: b.language } : {}),
            ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
          },
          actor: actorOf(auth),
          now: deps.clock.now(),
        },
      });
      return c.json(channelJson(row), 200);
    })
    .openapi(remove, async (c) => {
      const auth = c.get("auth");
      const row = await removeChannel({
        ctx: { db },
        input: {
          workspaceId: auth.workspaceId,
          id: c.req.valid("param").id,
          actor: actorOf(auth),
          now: deps.clock.now(),
        },
      });
      return c.json(channelJson(row), 200);
    })
    .openapi(deliveries, async (c) => {
      const auth = c.get("auth");
      const { id } = c.req.valid("param");
      const q = c.req.valid("query");
      if (!(await getChannel(db, auth.workspaceId, id))) throw notFound("channel");
      const found = page(
        await listDeliveries(db, auth.workspaceId, id, q.limit, decodeCursor(q.cursor)),
        q.limit,
      );
      return c.json({ deliveries: found.items.map(deliveryJson), next_cursor: found.next_cursor }, 200);
    })
    .openapi(test, async (c) => {
      const auth = c.get("auth");
      const channel = await getChannel(db, auth.workspaceId, c.req.valid("param").id);
      if (!channel) throw notFound("channel");
      const attempt = await sendTestMessage({
        ctx: { ...(await ctx()), clock: deps.clock, logger: deps.logger },
        input: { channel },
      });
      await writeAudit(db, auth.workspaceId, actorOf(auth), deps.clock.now(), [
        {
          action: "channel.tested",
          targetType: "channel",
          targetId: channel.id,
          details: { outcome: attempt.outcome, status_code: attempt.statusCode },
        },
      ]);
      return c.json(deliveryJson(attempt), 200);
    });
}
