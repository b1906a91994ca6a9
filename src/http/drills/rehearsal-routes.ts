import { createRoute, z } from "@hono/zod-openapi";
import { drillMarkdown } from "../../core/drill-report.ts";
import { buildDrillReport, drillNotFound } from "../../services/build-drill-report.ts";
import { endDrill } from "../../services/end-drill.ts";
import { startDrill } from "../../services/start-drill.ts";
import { endDueDrills, getDrill, listDrills } from "../../store/drills-rehearsal.ts";
import type { AppDeps, AuthInfo } from "../context.ts";
import { REVIEWER, VIEWER } from "../middleware/auth.ts";
import { errorResponses, IdParam, jsonBody, jsonResponse, ListQuery, newRouter } from "../openapi.ts";
import { decodeCursor, page } from "../pagination.ts";
import { access } from "../roles.ts";
import {
  type DrillReportJson,
  DrillReportSchema,
  DrillSchema,
  DrillSummarySchema,
  drillJson,
  StartDrillSchema,
} from "./rehearsal-schemas.ts";

const tags = ["incidents"];
const actor = (auth: AuthInfo) => ({ tokenId: auth.tokenId, name: auth.tokenName });

const start = createRoute({
  method: "post",
  path: "/v1/drills",
  tags,
  summary:
    "Start a drill: a declared incident marked drill; preflight and the incident rules treat it as real",
  ...access(...REVIEWER),
  request: { body: jsonBody(StartDrillSchema) },
  responses: { 201: jsonResponse(DrillSchema, "Started"), ...errorResponses(400, 401, 403) },
});

const list = createRoute({
  method: "get",
  path: "/v1/drills",
  tags,
  summary: "List drills, newest first, with their headline figures",
  ...access(...VIEWER),
  request: { query: z.object(ListQuery) },
  responses: {
    200: jsonResponse(
      z.object({ drills: z.array(DrillSummarySchema), next_cursor: z.string().nullable() }),
      "A page",
    ),
    ...errorResponses(400, 401, 403),
  },
});

const get = createRoute({
  method: "get",
  path: "/v1/drills/{id}",
  tags,
  summary: "One drill",
  ...access(...VIEWER),
  request: { params: IdParam },
  responses: { 200: jsonResponse(DrillSchema, "The drill"), ...errorResponses(401, 403, 404) },
});

const end = createRoute({
  method: "post",
  path: "/v1/drills/{id}/end",
  tags,
  summary: "End an active drill now",
  ...access(...REVIEWER),
  request: { params: IdParam },
  responses: { 200: jsonResponse(DrillSchema, "Ended"), ...errorResponses(401, 403, 404, 409) },
});

const report = createRoute({
  method: "get",
  path: "/v1/drills/{id}/report",
  tags,
  summary:
    "Drill report: participants, improvised actions, preflight compliance, time to first acknowledgement, comparison",
  description:
    "JSON by default; `?format=md` gives the same report as Markdown (English and Simplified Chinese). The " +
    "comparison is with the previous drill of the same platform and scope.",
  ...access(...VIEWER),
  request: { params: IdParam, query: z.object({ format: z.enum(["json", "md"]).default("json") }) },
  responses: {
    200: {
      description: "The report",
      content: {
        "application/json": { schema: DrillReportSchema },
        "text/markdown": { schema: z.string() },
      },
    },
    ...errorResponses(400, 401, 403, 404),
  },
});

/** Drills: `/v1/drills` (start, list), `/v1/drills/{id}` (one, end, report). Mounted after pre-drill checks. */
export function drillRehearsalRouter(deps: AppDeps) {
  const db = deps.database.db;
  /** A drill past its planned end is ended by the first read that notices, so no background job is needed. */
  const settle = (auth: AuthInfo) => endDueDrills(db, auth.workspaceId, deps.clock.now());
  const found = async (auth: AuthInfo, id: string) => {
    await settle(auth);
    const row = await getDrill(db, auth.workspaceId, id);
    if (!row) throw drillNotFound();
    return row;
  };
  return newRouter()
    .openapi(start, async (c) => {
      const auth = c.get("auth");
      const body = c.req.valid("json");
      const row = await startDrill({
        ctx: { db },
        input: {
          workspaceId: auth.workspaceId,
          platform: body.platform,
          scope: body.scope ?? null,
          title: body.title ?? null,
          plannedMinutes: body.planned_minutes,
          actor: actor(auth),
          now: deps.clock.now(),
        },
      });
      return c.json(drillJson(row), 201);
    })
    .openapi(list, async (c) => {
      const auth = c.get("auth");
      const q = c.req.valid("query");
      await settle(auth);
      const now = deps.clock.now();
      const found = page(await listDrills(db, auth.workspaceId, q.limit, decodeCursor(q.cursor)), q.limit);
      const drills = [];
      for (const row of found.items) {
        const built = await buildDrillReport({
          ctx: { db },
          input: { workspaceId: auth.workspaceId, drill: row, settings: auth.settings, now, compare: false },
        });
        drills.push({ ...drillJson(row), figures: built.figures });
      }
      return c.json({ drills, next_cursor: found.next_cursor }, 200);
    })
    .openapi(get, async (c) => {
      const row = await found(c.get("auth"), c.req.valid("param").id);
      return c.json(drillJson(row), 200);
    })
    .openapi(end, async (c) => {
      const auth = c.get("auth");
      await settle(auth);
      const row = await endDrill({
        ctx: { db },
        input: {
          workspaceId: auth.workspaceId,
          drillId: c.req.valid("param").id,
          actor: actor(auth),
          now: deps.clock.now(),
        },
      });
      return c.json(drillJson(row), 200);
    })
    .openapi(report, async (c) => {
      const auth = c.get("auth");
      const row = await found(auth, c.req.valid("param").id);
      const built = await buildDrillReport({
        ctx: { db },
        input: { workspaceId: auth.workspaceId, drill: row, settings: auth.settings, now: deps.clock.now() },
      });
      if (c.req.valid("query").format === "md") {
        return c.body(drillMarkdown(built), 200, { "content-type": "text/markdown; charset=utf-8" });
      }
      return c.json(built satisfies DrillReportJson, 200);
    });
}
