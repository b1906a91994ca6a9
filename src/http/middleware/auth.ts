import type { MiddlewareHandler } from "hono";
import { resolveSettings } from "../../domain/settings.ts";
import { ApiError } from "../../errors.ts";
import { findTokenBySecret, markTokenUsed } from "../../store/tenancy.ts";
import type { AppDeps, HonoEnv, Role } from "../context.ts";

/** last_used_at is informational: write it at most this often per token, not on every request. */
const TOUCH_EVERY_MS = 5 * 60_000;

export function authenticate(deps: AppDeps): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match)
      throw new ApiError("unauthorized", "missing bearer token: send Authorization: Bearer <token>");
    const identity = await findTokenBySecret(deps.database.db, match[1]!);
    if (!identity) throw new ApiError("unauthorized", "unknown or revoked token");
    const now = deps.clock.now();
    if (!identity.lastUsedAt || now.getTime() - identity.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
      await markTokenUsed(deps.database.db, identity.tokenId, now);
    }
    c.set("auth", {
      tokenId: identity.tokenId,
      tokenName: identity.tokenName,
      workspaceId: identity.workspaceId,
      workspaceSlug: identity.workspaceSlug,
      kind: identity.kind,
      role: identity.role,
      environmentId: identity.environmentId,
      settings: resolveSettings(deps.env, identity.workspaceSettings),
    });
    await next();
  };
}

/** Who may call a route: agents, or users at or above a role (viewer < reviewer < admin). */
export function allow(...roles: Role[]): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const auth = c.get("auth");
    if (!roles.includes(auth.role)) {
      throw new ApiError("forbidden", `a ${auth.role} token may not do this (needs ${roles.join(" or ")})`);
    }
    await next();
  };
}

export const VIEWER: Role[] = ["viewer", "reviewer", "admin"];
export const REVIEWER: Role[] = ["reviewer", "admin"];
export const ADMIN: Role[] = ["admin"];
