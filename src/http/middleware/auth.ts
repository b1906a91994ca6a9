import type { MiddlewareHandler } from "hono";
import { LRUCache } from "lru-cache";
import { resolveSettings } from "../../core/settings.ts";
import { ApiError, say } from "../../errors.ts";
import { tokenIdOfSecret } from "../../ids.ts";
import type { Db } from "../../store/db.ts";
import {
  findTokenBySecret,
  hashSecret,
  loadPepper,
  markTokenUsed,
  type Pepper,
  type TokenIdentity,
} from "../../store/tenancy.ts";
import type { AppDeps, HonoEnv, Role } from "../context.ts";
import { sourceIp } from "../source-ip.ts";
import { tokenKey } from "./rate-limit.ts";

/** last_used_at is informational: write it at most this often per token, not on every request. */
const TOUCH_EVERY_MS = 5 * 60_000;

/**
 * Known tokens for a moment, so a busy agent's every request does not read its token again. Kept short
 * (TETHER_AUTH_CACHE_MS): this process forgets everything the moment a token, an environment's tokens or a
 * workspace's settings change here; another process sees such a change within that long.
 */
export class AuthCache {
  /** keyed by the secret's keyed hash: no secret is kept in memory past its request */
  private readonly entries: LRUCache<string, TokenIdentity> | null;
  private pepperLoad: Promise<Pepper> | null = null;

  constructor(
    ttlMs: number,
    private readonly configuredPepper: string | undefined,
    max = 10_000,
  ) {
    this.entries = ttlMs > 0 ? new LRUCache({ max, ttl: ttlMs }) : null;
  }

  /** The token pepper, read once per process (and again after a failed read). */
  pepper(db: Db): Promise<Pepper> {
    this.pepperLoad ??= loadPepper(db, this.configuredPepper).catch((err) => {
      this.pepperLoad = null;
      throw err;
    });
    return this.pepperLoad;
  }

  async identify(db: Db, secret: string): Promise<TokenIdentity | null> {
    const pepper = await this.pepper(db);
    const key = hashSecret(pepper, secret);
    const hit = this.entries?.get(key);
    if (hit) return hit;
    const identity = await findTokenBySecret(db, pepper, secret);
    if (identity) this.entries?.set(key, identity);
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
    if (!match) throw new ApiError("unauthorized", say("api.missing_token"));
    const secret = match[1]!;
    const now = deps.clock.now();
    const rateLimited = (wait: number) => {
      c.header("retry-after", String(wait));
      return new ApiError("rate_limited", say("api.auth_rate_limited", { seconds: wait }));
    };
    // A blocked address is refused before its token is checked: a guesser must not learn whether a guess was
    // right. A blocked token id is not: anyone who knows an id could otherwise lock its rightful holder (an
    // agent in the middle of an outage) out for a window, and its 192 random bits need no guessing limit.
    const address = sourceIp(c, deps.env.TETHER_TRUST_PROXY);
    const presented = tokenKey(secret, tokenIdOfSecret(secret));
    const addressWait = deps.authLimiter.retryAfter(address, null, now.getTime());
    if (addressWait > 0) throw rateLimited(addressWait);
    const identity = await deps.authCache.identify(deps.database.db, secret);
    if (!identity) {
      const tokenWait = deps.authLimiter.retryAfter(null, presented, now.getTime());
      if (tokenWait > 0) throw rateLimited(tokenWait);
      deps.authLimiter.fail(address, presented, now.getTime());
      throw new ApiError("unauthorized", say("api.unknown_token"));
    }
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
      throw new ApiError("forbidden", (t) =>
        t("api.wrong_role", { role: auth.role, needed: roles.join(t("api.or")) }),
      );
    }
    await next();
  };
}

export const VIEWER: Role[] = ["viewer", "reviewer", "admin"];
export const REVIEWER: Role[] = ["reviewer", "admin"];
export const ADMIN: Role[] = ["admin"];
