import { createRoute, z } from "@hono/zod-openapi";
import { dataAgeDays } from "../../core/enrich/index.ts";
import type { Enricher } from "../../core/enrich/types.ts";
import { databaseUnavailable, errorCode } from "../../errors.ts";
import { probe } from "../../store/db.ts";
import type { AppDeps } from "../context.ts";
import { errorResponses, jsonResponse, newRouter } from "../openapi.ts";
import { access } from "../roles.ts";
import { sourceIp } from "../source-ip.ts";
import { workloadRefresher } from "./workload.ts";

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

const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["system"],
  summary: "The process is up (liveness); asks nothing of the database",
  responses: {
    200: jsonResponse(z.object({ status: z.literal("ok") }).openapi("Health"), "The process answers"),
  },
});

const DatasetSchema = z
  .object({
    source: z
      .string()
      .openapi({ description: "the package and version, or what `npm run data:refresh` recorded" }),
    origin: z.enum(["package", "installed"]).openapi({
      description:
        "shipped in node_modules, or installed into TETHER_ENRICHMENT_DIR by `npm run data:refresh`",
    }),
    built_at: z.string().openapi({ description: "when the data was built (RFC 3339)" }),
    age_days: z.number().int().openapi({ description: "whole days since built_at; tether warns past 60" }),
  })
  .openapi("EnrichmentDataset");

const EnrichmentDataSchema = z
  .object({ geo: DatasetSchema, asn: DatasetSchema })
  .openapi("EnrichmentData", { description: "The offline IP data the server enriches events with" });

const readyRoute = createRoute({
  method: "get",
  path: "/readyz",
  tags: ["system"],
  summary: "The database answers within two seconds (readiness)",
  responses: {
    200: jsonResponse(
      z
        .object({
          status: z.literal("ready"),
          database: z.enum(["pglite", "postgres"]),
          data: EnrichmentDataSchema,
        })
        .openapi("Ready"),
      "Ready to serve",
    ),
    ...errorResponses(503),
  },
});

const systemRoute = createRoute({
  method: "get",
  path: "/v1/system",
  tags: ["system"],
  summary: "The server's database kind and the build dates of its IP data",
  ...access("viewer", "reviewer", "admin"),
  responses: {
    200: jsonResponse(
      z.object({ database: z.enum(["pglite", "postgres"]), data: EnrichmentDataSchema }).openapi("System"),
      "The server",
    ),
    ...errorResponses(401, 403),
  },
});

const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["system"],
  summary: "Prometheus metrics in the text exposition format",
  description:
    "Counters and histograms of this process (requests, ingest, findings, rule errors), and gauges read from " +
    "the database at most every few seconds (open alerts by severity, active incidents by source). No label " +
    "carries an account id, an IP or any other unbounded value. `tether_notification_deliveries_total` has no " +
    'series until tether sends notifications. `tether_enrichment_data_age_seconds{dataset="geo"|"asn"}` is ' +
    "the age of the offline IP data.",
  responses: {
    200: {
      description: "The metrics",
      content: { "text/plain; version=0.0.4": { schema: z.string() } },
    },
  },
});

/** The enricher's data sets as the API shows them, aged at `now`. */
export function enrichmentData(enricher: Enricher, now: Date) {
  const show = (name: "geo" | "asn") => {
    const d = enricher.datasets.find((x) => x.dataset === name);
    if (!d) throw new Error(`the enricher has no ${name} data set`);
    return {
      source: d.source,
      origin: d.origin,
      built_at: d.builtAt.toISOString(),
      age_days: dataAgeDays(d, now),
    };
  };
  return { geo: show("geo"), asn: show("asn") };
}

/** A load balancer's probe wants an answer quickly, even from a frozen database. */
const READY_PROBE_MS = 2_000;

/** Probes and metrics answer without a token: they say nothing about any workspace. */
export function systemRouter(deps: AppDeps) {
  const refreshWorkload = workloadRefresher(deps);
  return newRouter()
    .openapi(healthRoute, (c) => c.json({ status: "ok" as const }, 200))
    .openapi(readyRoute, async (c) => {
      try {
        await probe(deps.database, READY_PROBE_MS);
        return c.json(
          {
            status: "ready" as const,
            database: deps.database.kind,
            data: enrichmentData(deps.enricher, deps.clock.now()),
          },
          200,
        );
      } catch (err) {
        deps.logger.warn({ code: errorCode(err) }, "readiness check failed");
        throw databaseUnavailable();
      }
    })
    .openapi(metricsRoute, async (c) => {
      await refreshWorkload();
      deps.metrics.setEnrichmentData(deps.enricher.datasets, deps.clock.now());
      return c.text(await deps.metrics.registry.metrics(), 200, {
        "content-type": deps.metrics.registry.contentType,
      });
    });
}

/** The system routes behind a token: who is calling (whoami) and what the server runs on (system). */
export function callerSystemRouter(deps: AppDeps) {
  return newRouter()
    .openapi(systemRoute, (c) =>
      c.json({ database: deps.database.kind, data: enrichmentData(deps.enricher, deps.clock.now()) }, 200),
    )
    .openapi(whoamiRoute, (c) => {
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
