import { createRoute, z } from "@hono/zod-openapi";
import { MAX_FUTURE_MS } from "../../core/event.ts";
import { reviewMarkdown } from "../../core/review.ts";
import { ApiError, notFound, say } from "../../errors.ts";
import { buildReview } from "../../services/build-review.ts";
import { writeAudit } from "../../store/audit.ts";
import {
  closeIncident,
  closeQuietIncidents,
  createIncident,
  getIncident,
  listIncidents,
} from "../../store/incidents.ts";
import type { AppDeps, AuthInfo } from "../context.ts";
import { SlugSchema } from "../events/schemas.ts";
import { allow, REVIEWER, VIEWER } from "../middleware/auth.ts";
import { errorResponses, IdParam, jsonBody, jsonResponse, ListQuery, newRouter, text } from "../openapi.ts";
import { decodeCursor, page } from "../pagination.ts";
import { Timestamp } from "../schemas.ts";
import { IncidentSchema, incidentJson, type ReviewJson, ReviewSchema } from "./schemas.ts";

const tags = ["incidents"];
const security = [{ bearer: [] }];
const actor = (auth: AuthInfo) => ({ tokenId: auth.tokenId, name: auth.tokenName });

const declare = createRoute({
  method: "post",
  path: "/v1/incidents",
  tags,
  security,
  summary:
    "Declare a platform incident (optionally one region); incident rules apply to its platform at once",
  middleware: [allow(...REVIEWER)] as const,
  request: {
    body: jsonBody(
      z
        .object({
          platform: SlugSchema,
          region: z
            .string()
            .regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, "must be an ISO 3166 code like US or US-CA")
            .nullable()
            .optional(),
          title: text(200, 1),
          started_at: Timestamp.optional(),
        })
        .strict()
        .openapi("DeclareIncident"),
    ),
  },
  responses: { 201: jsonResponse(IncidentSchema, "Declared"), ...errorResponses(400, 401, 403) },
});

const list = createRoute({
  method: "get",
  path: "/v1/incidents",
  tags,
  security,
  summary: "List incidents, newest first",
  middleware: [allow(...VIEWER)] as const,
  request: { query: z.object({ status: z.enum(["active", "closed"]).optional(), ...ListQuery }) },
  responses: {
    200: jsonResponse(
      z.object({ incidents: z.array(IncidentSchema), next_cursor: z.string().nullable() }),
      "A page",
    ),
    ...errorResponses(400, 401, 403),
  },
});

const get = createRoute({
  method: "get",
  path: "/v1/incidents/{id}",
  tags,
  security,
  summary: "One incident",
  middleware: [allow(...VIEWER)] as const,
  request: { params: IdParam },
  responses: { 200: jsonResponse(IncidentSchema, "The incident"), ...errorResponses(401, 403, 404) },
});

const close = createRoute({
  method: "post",
  path: "/v1/incidents/{id}/close",
  tags,
  security,
  summary: "Close an active incident now",
  middleware: [allow(...REVIEWER)] as const,
  request: { params: IdParam },
  responses: { 200: jsonResponse(IncidentSchema, "Closed"), ...errorResponses(401, 403, 404, 409) },
});

const review = createRoute({
  method: "get",
  path: "/v1/incidents/{id}/review",
  tags,
  security,
  summary:
    "Post-incident review: timeline, improvised actions, success rates before/during/after, alerts, lessons",
  description:
    "JSON by default; `?format=md` gives the same review as Markdown (English and Simplified Chinese).",
  middleware: [allow(...VIEWER)] as const,
  request: { params: IdParam, query: z.object({ format: z.enum(["json", "md"]).default("json") }) },
  responses: {
    200: {
      description: "The review",
      content: {
        "application/json": { schema: ReviewSchema },
        "text/markdown": { schema: z.string() },
      },
    },
    ...errorResponses(400, 401, 403, 404),
  },
});

export function incidentsRouter(deps: AppDeps) {
  const db = deps.database.db;
  /** Detected incidents end by themselves after a quiet hold; reads see that without a background job. */
  const settle = (auth: AuthInfo) =>
    closeQuietIncidents(db, auth.workspaceId, deps.clock.now(), auth.settings.incident.holdMinutes);
  return newRouter()
    .openapi(declare, async (c) => {
      const auth = c.get("auth");
      const body = c.req.valid("json");
      const now = deps.clock.now();
      const startedAt = body.started_at ? new Date(body.started_at) : now;
      if (startedAt.getTime() > now.getTime() + MAX_FUTURE_MS) {
        throw new ApiError("bad_request", say("api.started_in_future"), [
          { path: "started_at", message: "is more than 5 minutes in the future" },
        ]);
      }
      const row = await db.transaction(async (tx) => {
        const incident = await createIncident(
          tx,
          {
            workspaceId: auth.workspaceId,
            platform: body.platform,
            region: body.region ?? null,
            title: body.title,
            source: "declared",
            startedAt,
            evidence: { declared_by: auth.tokenName },
            createdBy: auth.tokenName,
          },
          now,
        );
        await writeAudit(tx, auth.workspaceId, actor(auth), now, [
          { action: "incident.declared", targetType: "incident", targetId: incident.id, details: body },
        ]);
        return incident;
      });
      return c.json(incidentJson(row), 201);
    })
    .openapi(list, async (c) => {
      const auth = c.get("auth");
      const q = c.req.valid("query");
      await settle(auth);
      const found = page(
        await listIncidents(db, auth.workspaceId, q.status, q.limit, decodeCursor(q.cursor)),
        q.limit,
      );
      return c.json({ incidents: found.items.map(incidentJson), next_cursor: found.next_cursor }, 200);
    })
    .openapi(get, async (c) => {
      const auth = c.get("auth");
      await settle(auth);
      const row = await getIncident(db, auth.workspaceId, c.req.valid("param").id);
      if (!row) throw notFound("incident");
      return c.json(incidentJson(row), 200);
    })
    .openapi(review, async (c) => {
      const auth = c.get("auth");
      await settle(auth);
      const row = await getIncident(db, auth.workspaceId, c.req.valid("param").id);
      if (!row) throw notFound("incident");
      const built = await buildReview({
        ctx: { db },
        input: {
          workspaceId: auth.workspaceId,
          incident: row,
          settings: auth.settings,
          now: deps.clock.now(),
        },
      });
      if (c.req.valid("query").format === "md") {
        return c.body(reviewMarkdown(built), 200, { "content-type": "text/markdown; charset=utf-8" });
      }
      return c.json(built satisfies ReviewJson, 200);
    })
    .openapi(close, async (c) => {
      const auth = c.get("auth");
      const { id } = c.req.valid("param");
      const now = deps.clock.now();
      await settle(auth);
      const row = await db.transaction(async (tx) => {
        const current = await getIncident(tx, auth.workspaceId, id);
        if (!current) throw notFound("incident");
        const closed = await closeIncident(tx, auth.workspaceId, id, now, now);
        if (!closed) throw new ApiError("conflict", say("api.incident_closed", { id }));
        await writeAudit(tx, auth.workspaceId, actor(auth), now, [
          { action: "incident.closed", targetType: "incident", targetId: id },
        ]);
        return closed;
      });
      return c.json(incidentJson(row), 200);
    });
}
