import type { Logger } from "pino";
import type { Clock } from "../clock.ts";
import type { Enricher } from "../core/enrich/types.ts";
import type { Settings } from "../core/model.ts";
import type { Env } from "../env.ts";
import type { Metrics } from "../metrics.ts";
import type { Ingest } from "../services/ingest-events.ts";
import type { Database } from "../store/db.ts";
import type { AuthCache } from "./middleware/auth.ts";
import type { AuthFailureLimiter } from "./middleware/rate-limit.ts";

export interface AppDeps {
  database: Database;
  env: Env;
  clock: Clock;
  logger: Logger;
  enricher: Enricher;
  metrics: Metrics;
  /** the ingest pipeline (group commit) of this process */
  ingest: Ingest;
  /** tokens this process has just read; cleared whenever tokens or settings change */
  authCache: AuthCache;
  /** failed authentications of this process, per source address and per token presented */
  authLimiter: AuthFailureLimiter;
}

export const ROLES = ["agent", "viewer", "reviewer", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface AuthInfo {
  tokenId: string;
  tokenName: string;
  workspaceId: string;
  workspaceSlug: string;
  kind: "agent" | "user";
  role: Role;
  environmentId: string | null;
  settings: Settings;
}

export interface HonoEnv {
  Variables: {
    requestId: string;
    auth: AuthInfo;
  };
}

/** The caller of a request as the services name it: workspace, environment (agents) and the token's name. */
export const callerOf = (auth: AuthInfo) => ({
  workspaceId: auth.workspaceId,
  environmentId: auth.environmentId,
  tokenId: auth.tokenId,
  name: auth.tokenName,
});
