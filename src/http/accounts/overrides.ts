import { createRoute, z } from "@hono/zod-openapi";
import { notFound } from "../../errors.ts";
import { getAccount } from "../../store/accounts.ts";
import { writeAudit } from "../../store/audit.ts";
import { createOverride, listOverrides, type OverrideRow } from "../../store/incidents.ts";
import type { AppDeps } from "../context.ts";
import { REVIEWER, VIEWER } from "../middleware/auth.ts";
import { errorResponses, IdParam, jsonBody, jsonResponse, newRouter, text } from "../openapi.ts";
import { access } from "../roles.ts";

const tags = ["accounts"];

const OverrideSchema = z
  .object({
    id: z.string(),
    account_id: z.string(),
    operation: z.string(),
    reason: z.string(),
    expires_at: z.string(),
    created_by: z.string(),
    created_at: z.string(),
  })
  .openapi("Override");

const overrideJson = (o: OverrideRow): z.infer<typeof OverrideSchema> => ({
  id: o.id,
  account_id: o.accountId,
  operation: o.operation,
  reason: o.reason,
  expires_at: o.expiresAt.toISOString(),
  created_by: o.createdBy,
  created_at: o.createdAt.toISOString(),
});

const grant = createRoute({
  method: "post",
  path: "/v1/accounts/{id}/overrides",
  tags,
  summary:
    "Break-glass: let preflight allow one operation for this account until the override expires (audited)",
  ...access(...REVIEWER),
  request: {
    params: IdParam,
    body: jsonBody(
      z
        .object({
          operation: z.string().regex(/^[a-z0-9_]{1,64}$/, "must be a lowercase slug"),
          minutes: z
            .number()
            .int()
            .min(1)
            .max(24 * 60)
            .default(60),
          reason: text(500, 1),
        })
        .strict()
        .openapi("GrantOverride"),
    ),
  },
  responses: { 201: jsonResponse(OverrideSchema, "Granted"), ...errorResponses(400, 401, 403, 404) },
});

const list = createRoute({
  method: "get",
  path: "/v1/accounts/{id}/overrides",
  tags,
  summary: "The account's overrides, newest first",
  ...access(...VIEWER),
  request: { params: IdParam },
  responses: {
    200: jsonResponse(
      z.object({ overrides: z.array(OverrideSchema), next_cursor: z.string().nullable() }),
      "All of them",
    ),
    ...errorResponses(401, 403, 404),
  },
});

export function overridesRouter(deps: AppDeps) {
  const db = deps.database.db;
  return newRouter()
    .openapi(grant, async (c) => {
      const auth = c.get("auth");
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const now = deps.clock.now();
      const row = await db.transaction(async (tx) => {
        if (!(await getAccount(tx, auth.workspaceId, id))) throw notFound("account");
        const created = await createOverride(tx, {
          workspaceId: auth.workspaceId,
          accountId: id,
          operation: body.operation,
          reason: body.reason,
          expiresAt: new Date(now.getTime() + body.minutes * 60_000),
          createdBy: auth.tokenName,
          createdAt: now,
        });
        await writeAudit(tx, auth.workspaceId, { tokenId: auth.tokenId, name: auth.tokenName }, now, [
          {
            action: "override.granted",
            targetType: "account",
            targetId: id,
            details: { override_id: created.id, ...body },
          },
        ]);
        return created;
      });
      return c.json(overrideJson(row), 201);
    })
    .openapi(list, async (c) => {
      const auth = c.get("auth");
      const { id } = c.req.valid("param");
      if (!(await getAccount(db, auth.workspaceId, id))) throw notFound("account");
      return c.json(
        { overrides: (await listOverrides(db, auth.workspaceId, id)).map(overrideJson), next_cursor: null },
        200,
      );
    });
}
