import { createRoute, z } from "@hono/zod-openapi";
import { listAudit } from "../../store/audit.ts";
import type { AppDeps } from "../context.ts";
import { REVIEWER } from "../middleware/auth.ts";
import { errorResponses, jsonResponse, ListQuery, name, newRouter } from "../openapi.ts";
import { decodeCursor, page } from "../pagination.ts";
import { access } from "../roles.ts";

const tags = ["audit"];

export const AuditEntrySchema = z
  .object({
    id: z.string(),
    at: z.string(),
    actor_token_id: z
      .string()
      .nullable()
      .openapi({ description: "null for the server's own bootstrap and for the command line" }),
    actor_name: z.string(),
    action: z.string().openapi({ example: "token.issued" }),
    target_type: z.string(),
    target_id: z.string(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi("AuditEntry");

type AuditRow = Awaited<ReturnType<typeof listAudit>>[number];

const auditJson = (a: AuditRow): z.infer<typeof AuditEntrySchema> => ({
  id: a.id,
  at: a.at.toISOString(),
  actor_token_id: a.actorTokenId,
  actor_name: a.actorName,
  action: a.action,
  target_type: a.targetType,
  target_id: a.targetId,
  details: a.details,
});

const instant = z.iso
  .datetime({ offset: true, abort: true })
  // PostgreSQL has no year 0: such an instant would fail in the database instead of here.
  .refine((v) => new Date(v).getUTCFullYear() >= 1, "is not a representable instant");

const list = createRoute({
  method: "get",
  path: "/v1/audit",
  tags,
  summary: "Who did what: every admin and reviewer action, newest first (append-only)",
  ...access(...REVIEWER),
  request: {
    query: z.object({
      actor: name(128).optional().openapi({ description: "a token id or an actor name" }),
      action: name(128)
        .optional()
        .openapi({ description: "an action (`alert.trust`), or all of a kind with `.*` (`token.*`)" }),
      target_type: name(64).optional(),
      target_id: name(128).optional(),
      since: instant.optional().openapi({ description: "at or after this instant" }),
      until: instant.optional().openapi({ description: "before this instant" }),
      ...ListQuery,
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ audit: z.array(AuditEntrySchema), next_cursor: z.string().nullable() }),
      "A page",
    ),
    ...errorResponses(400, 401, 403),
  },
});

export function auditRouter(deps: AppDeps) {
  const db = deps.database.db;
  return newRouter().openapi(list, async (c) => {
    const auth = c.get("auth");
    const q = c.req.valid("query");
    const found = page(
      await listAudit(
        db,
        auth.workspaceId,
        {
          actor: q.actor,
          action: q.action,
          targetType: q.target_type,
          targetId: q.target_id,
          since: q.since ? new Date(q.since) : undefined,
          until: q.until ? new Date(q.until) : undefined,
        },
        q.limit,
        decodeCursor(q.cursor),
      ),
      q.limit,
    );
    return c.json({ audit: found.items.map(auditJson), next_cursor: found.next_cursor }, 200);
  });
}
