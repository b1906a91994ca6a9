import { createRoute, z } from "@hono/zod-openapi";
import { ApiError, notFound, say } from "../../errors.ts";
import { writeAudit } from "../../store/audit.ts";
import {
  activeAdminTokenCount,
  getToken,
  issueToken,
  listTokens,
  lockWorkspace,
  revokeToken,
} from "../../store/tenancy.ts";
import type { AppDeps } from "../context.ts";
import { ADMIN } from "../middleware/auth.ts";
import { errorResponses, IdParam, jsonBody, jsonResponse, ListQuery, name, newRouter } from "../openapi.ts";
import { decodeCursor, page } from "../pagination.ts";
import { access } from "../roles.ts";

const tags = ["tokens"];

export const TokenSchema = z
  .object({
    id: z.string().openapi({
      description:
        "the token's public id; an issued secret contains it, so a secret can be matched to its row",
    }),
    name: z.string(),
    kind: z.enum(["agent", "user"]),
    role: z.enum(["agent", "viewer", "reviewer", "admin"]),
    environment_id: z.string().nullable(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi("Token");

type TokenRow = Awaited<ReturnType<typeof listTokens>>[number];

const tokenJson = (t: TokenRow): z.infer<typeof TokenSchema> => ({
  id: t.id,
  name: t.name,
  kind: t.kind,
  role: t.role,
  environment_id: t.environmentId,
  created_at: t.createdAt.toISOString(),
  last_used_at: t.lastUsedAt?.toISOString() ?? null,
  revoked_at: t.revokedAt?.toISOString() ?? null,
});

const create = createRoute({
  method: "post",
  path: "/v1/tokens",
  tags,
  summary: "Issue a user token; its secret is in `token`, shown once",
  ...access(...ADMIN),
  request: {
    body: jsonBody(
      z
        .object({ name: name(128), role: z.enum(["viewer", "reviewer", "admin"]) })
        .strict()
        .openapi("CreateToken"),
    ),
  },
  responses: {
    201: jsonResponse(TokenSchema.extend({ token: z.string() }), "Issued"),
    ...errorResponses(400, 401, 403),
  },
});

const list = createRoute({
  method: "get",
  path: "/v1/tokens",
  tags,
  summary: "List tokens (never their secrets), newest first",
  ...access(...ADMIN),
  request: { query: z.object(ListQuery) },
  responses: {
    200: jsonResponse(
      z.object({ tokens: z.array(TokenSchema), next_cursor: z.string().nullable() }),
      "A page",
    ),
    ...errorResponses(400, 401, 403),
  },
});

const revoke = createRoute({
  method: "delete",
  path: "/v1/tokens/{id}",
  tags,
  summary: "Revoke a token at once",
  ...access(...ADMIN),
  request: { params: IdParam },
  responses: { 200: jsonResponse(TokenSchema, "Revoked"), ...errorResponses(401, 403, 404, 409) },
});

export function tokensRouter(deps: AppDeps) {
  const db = deps.database.db;
  return newRouter()
    .openapi(create, async (c) => {
      const auth = c.get("auth");
      const body = c.req.valid("json");
      const now = deps.clock.now();
      const pepper = await deps.authCache.pepper(db);
      const out = await db.transaction(async (tx) => {
        const { token, secret } = await issueToken(
          tx,
          { workspaceId: auth.workspaceId, kind: "user", role: body.role, name: body.name },
          pepper,
          now,
        );
        await writeAudit(tx, auth.workspaceId, { tokenId: auth.tokenId, name: auth.tokenName }, now, [
          {
            action: "token.issued",
            targetType: "token",
            targetId: token.id,
            details: { kind: "user", role: body.role },
          },
        ]);
        return { ...tokenJson(token), token: secret };
      });
      return c.json(out, 201);
    })
    .openapi(list, async (c) => {
      const auth = c.get("auth");
      const q = c.req.valid("query");
      const found = page(await listTokens(db, auth.workspaceId, q.limit, decodeCursor(q.cursor)), q.limit);
      return c.json({ tokens: found.items.map(tokenJson), next_cursor: found.next_cursor }, 200);
    })
    .openapi(revoke, async (c) => {
      const auth = c.get("auth");
      const { id } = c.req.valid("param");
      const now = deps.clock.now();
      const row = await db.transaction(async (tx) => {
        await lockWorkspace(tx, auth.workspaceId);
        const target = await getToken(tx, auth.workspaceId, id);
        // Revoking the last admin token would leave the workspace with no one able to administer it.
        if (
          target?.role === "admin" &&
          !target.revokedAt &&
          (await activeAdminTokenCount(tx, auth.workspaceId)) <= 1
        ) {
          throw new ApiError("conflict", say("api.last_admin"));
        }
        const revoked = await revokeToken(tx, auth.workspaceId, id, now);
        if (revoked) {
          await writeAudit(tx, auth.workspaceId, { tokenId: auth.tokenId, name: auth.tokenName }, now, [
            { action: "token.revoked", targetType: "token", targetId: id },
          ]);
        }
        return revoked;
      });
      deps.authCache.clear();
      if (!row) throw notFound("token");
      return c.json(tokenJson(row), 200);
    });
}
