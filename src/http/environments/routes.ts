import { createRoute, z } from "@hono/zod-openapi";
import { ApiError, notFound, say } from "../../errors.ts";
import { findAccountsByIds, isUniqueViolation } from "../../store/accounts.ts";
import { writeAudit } from "../../store/audit.ts";
import type { Db } from "../../store/db.ts";
import {
  accountIdsOfEnvironments,
  createEnvironment,
  type EnvironmentRow,
  getEnvironment,
  listEnvironments,
  setEnvironmentAccounts,
} from "../../store/environments.ts";
import { issueToken, revokeEnvironmentTokens } from "../../store/tenancy.ts";
import type { AppDeps, AuthInfo } from "../context.ts";
import { ADMIN, VIEWER } from "../middleware/auth.ts";
import { errorResponses, IdParam, jsonBody, jsonResponse, ListQuery, name, newRouter } from "../openapi.ts";
import { decodeCursor, page } from "../pagination.ts";
import { access } from "../roles.ts";

const tags = ["environments"];

const AccountIds = z.array(z.string().min(1).max(128)).max(1000);

export const EnvironmentSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    account_ids: z.array(z.string()),
    last_heartbeat_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("Environment");

const IssuedAgentToken = z.object({
  environment: EnvironmentSchema,
  token: z.string().openapi({ description: "the agent token's secret, shown once" }),
  token_id: z.string(),
});

function environmentJson(row: EnvironmentRow, accountIds: string[]): z.infer<typeof EnvironmentSchema> {
  return {
    id: row.id,
    name: row.name,
    account_ids: accountIds,
    last_heartbeat_at: row.lastHeartbeatAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
  };
}

/** Ids from another workspace are answered exactly like ids that do not exist. */
async function requireAccounts(db: Db, workspaceId: string, ids: string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  const found = new Set((await findAccountsByIds(db, workspaceId, unique)).map((a) => a.id));
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length > 0) {
    throw new ApiError(
      "not_found",
      say("api.accounts_missing", { ids: missing.slice(0, 5).join(", ") }),
      missing.slice(0, 20).map((id) => ({ path: "account_ids", message: `account ${id} not found` })),
    );
  }
  return unique;
}

const actor = (auth: AuthInfo) => ({ tokenId: auth.tokenId, name: auth.tokenName });

const create = createRoute({
  method: "post",
  path: "/v1/environments",
  tags,
  summary: "Create an environment bound to accounts, with its agent token (shown once)",
  ...access(...ADMIN),
  request: {
    body: jsonBody(
      z
        .object({ name: name(128), account_ids: AccountIds.default([]) })
        .strict()
        .openapi("CreateEnvironment"),
    ),
  },
  responses: { 201: jsonResponse(IssuedAgentToken, "Created"), ...errorResponses(400, 401, 403, 404, 409) },
});

const list = createRoute({
  method: "get",
  path: "/v1/environments",
  tags,
  summary: "List environments, newest first",
  ...access(...VIEWER),
  request: { query: z.object(ListQuery) },
  responses: {
    200: jsonResponse(
      z.object({ environments: z.array(EnvironmentSchema), next_cursor: z.string().nullable() }),
      "A page",
    ),
    ...errorResponses(400, 401, 403),
  },
});

const setAccounts = createRoute({
  method: "put",
  path: "/v1/environments/{id}/accounts",
  tags,
  summary: "Replace the accounts an environment may operate (audited)",
  ...access(...ADMIN),
  request: { params: IdParam, body: jsonBody(z.object({ account_ids: AccountIds }).strict()) },
  responses: {
    200: jsonResponse(EnvironmentSchema, "The environment"),
    ...errorResponses(400, 401, 403, 404),
  },
});

const rotate = createRoute({
  method: "post",
  path: "/v1/environments/{id}/tokens",
  tags,
  summary: "Rotate the environment's agent token: the old ones are revoked, a new one is shown once",
  ...access(...ADMIN),
  request: { params: IdParam },
  responses: { 201: jsonResponse(IssuedAgentToken, "Rotated"), ...errorResponses(401, 403, 404) },
});

export function environmentsRouter(deps: AppDeps) {
  const db = deps.database.db;
  return newRouter()
    .openapi(create, async (c) => {
      const auth = c.get("auth");
      const body = c.req.valid("json");
      const now = deps.clock.now();
      const pepper = await deps.authCache.pepper(db);
      try {
        const out = await db.transaction(async (tx) => {
          const accountIds = await requireAccounts(tx, auth.workspaceId, body.account_ids);
          const env = await createEnvironment(tx, auth.workspaceId, body.name, now);
          await setEnvironmentAccounts(tx, auth.workspaceId, env.id, accountIds, now);
          const { token, secret } = await issueToken(
            tx,
            {
              workspaceId: auth.workspaceId,
              kind: "agent",
              role: "agent",
              name: `agent:${body.name}`,
              environmentId: env.id,
            },
            pepper,
            now,
          );
          await writeAudit(tx, auth.workspaceId, actor(auth), now, [
            {
              action: "environment.created",
              targetType: "environment",
              targetId: env.id,
              details: { name: body.name, account_ids: accountIds },
            },
            {
              action: "token.issued",
              targetType: "token",
              targetId: token.id,
              details: { kind: "agent", environment_id: env.id },
            },
          ]);
          return {
            environment: environmentJson(env, [...accountIds].sort()),
            token: secret,
            token_id: token.id,
          };
        });
        return c.json(out, 201);
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ApiError("conflict", say("api.environment_exists", { name: body.name }));
        throw err;
      }
    })
    .openapi(list, async (c) => {
      const auth = c.get("auth");
      const q = c.req.valid("query");
      const found = page(
        await listEnvironments(db, auth.workspaceId, q.limit, decodeCursor(q.cursor)),
        q.limit,
      );
      const links = await accountIdsOfEnvironments(
        db,
        found.items.map((e) => e.id),
      );
      return c.json(
        {
          environments: found.items.map((e) => environmentJson(e, links.get(e.id) ?? [])),
          next_cursor: found.next_cursor,
        },
        200,
      );
    })
    .openapi(setAccounts, async (c) => {
      const auth = c.get("auth");
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const now = deps.clock.now();
      const out = await db.transaction(async (tx) => {
        const env = await getEnvironment(tx, auth.workspaceId, id);
        if (!env) throw notFound("environment");
        const accountIds = await requireAccounts(tx, auth.workspaceId, body.account_ids);
        const before = (await accountIdsOfEnvironments(tx, [id])).get(id) ?? [];
        await setEnvironmentAccounts(tx, auth.workspaceId, id, accountIds, now);
        await writeAudit(tx, auth.workspaceId, actor(auth), now, [
          {
            action: "environment.accounts_set",
            targetType: "environment",
            targetId: id,
            details: { before, after: accountIds },
          },
        ]);
        return environmentJson(env, [...accountIds].sort());
      });
      return c.json(out, 200);
    })
    .openapi(rotate, async (c) => {
      const auth = c.get("auth");
      const { id } = c.req.valid("param");
      const now = deps.clock.now();
      const pepper = await deps.authCache.pepper(db);
      const out = await db.transaction(async (tx) => {
        const env = await getEnvironment(tx, auth.workspaceId, id);
        if (!env) throw notFound("environment");
        const revoked = await revokeEnvironmentTokens(tx, auth.workspaceId, id, now);
        const { token, secret } = await issueToken(
          tx,
          {
            workspaceId: auth.workspaceId,
            kind: "agent",
            role: "agent",
            name: `agent:${env.name}`,
            environmentId: id,
          },
          pepper,
          now,
        );
        await writeAudit(tx, auth.workspaceId, actor(auth), now, [
          {
            action: "token.rotated",
            targetType: "environment",
            targetId: id,
            details: { revoked: revoked.map((r) => r.id), issued: token.id },
          },
        ]);
        const links = await accountIdsOfEnvironments(tx, [id]);
        return { environment: environmentJson(env, links.get(id) ?? []), token: secret, token_id: token.id };
      });
      deps.authCache.clear();
      return c.json(out, 201);
    });
}
