import type { MiddlewareHandler } from "hono";
import type { HonoEnv, Role } from "./context.ts";
import { allow } from "./middleware/auth.ts";

/** The OpenAPI vendor extension that names the roles an operation admits. */
export const ROLES_EXTENSION = "x-tether-roles";

/**
 * Who may call a route, declared once. Spread into `createRoute`, the same list both enforces the roles (the
 * `allow` middleware) and documents them (bearer security and `x-tether-roles` in /openapi.json), so the
 * document cannot drift from what the router does.
 */
export function access(...roles: Role[]) {
  const middleware: [MiddlewareHandler<HonoEnv>] = [allow(...roles)];
  return {
    security: [{ bearer: [] }],
    middleware,
    [ROLES_EXTENSION]: roles,
  };
}
