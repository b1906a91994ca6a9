import { createRoute, z } from "@hono/zod-openapi";
import { DATABASE_RETRY_AFTER_SECONDS, errorCode } from "../../errors.ts";
import { probe } from "../../store/db.ts";
import type { AppDeps } from "../context.ts";
import { errorResponses, jsonResponse, newRouter } from "../openapi.ts";
import { access } from "../roles.ts";
import { sourceIp } from "../source-ip.ts";

const WhoamiSchema = z
  .object({
    token_id: z.string(),
    name: z.string(),
    kind: z.enum(["agent", "user"]),
    role: z.enum(["agent", "viewer", "reviewer", "admin"]),
    workspace: z.object({ id: z.string(), slug: z.string() }),
    environment_id: z.string().nullable(),
    source_ip: z.string().nullable(),
  })
  .openapi("Whoami");

const whoamiRoute = createRoute({
  method: "get",
  path: "/v1/whoami",
  tags: ["system"],
  summary: "The token's identity and the source IP the server sees",
  ...access("agent", "viewer", "reviewer", "admin"),
  responses: { 200: jsonResponse(WhoamiSchema, "The caller"), ...errorResponses(401) },
});

/** A load balancer's probe wants an answer quickly, even from a frozen database. */
const READY_PROBE_MS = 2_000;

/** Probes and metrics answer without a token: they say nothing about any workspace. */
export function systemRouter(deps: AppDeps) {
  const app = newRouter();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    try {
      await probe(deps.database, READY_PROBE_MS);
      return c.json({ status: "ready", database: deps.database.kind });
    } catch (err) {
      deps.logger.warn({ code: errorCode(err) }, "readiness check failed");
      c.header("retry-after", String(DATABASE_RETRY_AFTER_SECONDS));
      return c.json(
        { error: { code: "unavailable", message: "database unreachable", request_id: c.get("requestId") } },
        503,
      );
    }
  });
  app.get("/metrics", async (c) => {
    c.header("content-type", deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });
  return app;
}

export function whoamiRouter(deps: AppDeps) {
  return newRouter().openapi(whoamiRoute, (c) => {
    const auth = c.get("auth");
    return c.json(
      {
        token_id: auth.tokenId,
        name: auth.tokenName,
        kind: auth.kind,
        role: auth.role,
        workspace: { id: auth.workspaceId, slug: auth.workspaceSlug },
        environment_id: auth.environmentId,
        source_ip: sourceIp(c, deps.env.TETHER_TRUST_PROXY),
      },
      200,
    );
  });
}
