import type { MiddlewareHandler } from "hono";
import { LRUCache } from "lru-cache";
import { resolveSettings } from "../../core/settings.ts";
import { ApiError } from "../../errors.ts";
import { findTokenBySecret, markTokenUsed, type TokenIdentity } from "../../store/tenancy.ts";
import type { AppDeps, HonoEnv, Role } from "../context.ts";

/** last_used_at is informational: write it at most this often per token, not on every request. */
const TOUCH_EVERY_MS = 5 * 60_000;

/**
 * Known tokens for a moment, so a busy agent's every request does not read its token again. Kept short
 * (TETHER_AUTH_CACHE_MS): this process forgets everything the moment a token, an environment's tokens or a
 * workspace's settings change here; another process sees such a change within that long.
 */
export class AuthCache {
  private readonly entries: LRUCache<string, TokenIdentity> | null;

  constructor(ttlMs: number, max = 10_000) {
    this.entries = ttlMs > 0 ? new LRUCache({ max, ttl: ttlMs }) : null;
  }

  async identify(secret: string, load: () => Promise<TokenIdentity | null>): Promise<TokenIdentity | null> {
    const hit = this.entries?.get(secret);
    if (hit) return hit;
    const identity = await load();
    if (identity) this.entries?.set(secret, identity);
    return identity;
  }

  clear(): void {
    this.entries?.clear();
  }
}

export function authenticate(deps: AppDeps): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match)
      throw new ApiError("unauthorized", "missing bearer token: send Authorization: Bearer <token>");
    const secret = match[1]!;
    const identity = await deps.authCache.identify(secret, () => findTokenBySecret(deps.database.db, secret));
    if (!identity) throw new ApiError("unauthorized", "unknown or revoked token");
    const now = deps.clock.now();
    if (!identity.lastUsedAt || now.getTime() - identity.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
      await markTokenUsed(deps.database.db, identity.tokenId, now);
      identity.lastUsedAt = now;
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
