import { createRoute, z } from "@hono/zod-openapi";
import { SEVERITIES } from "../../core/model.ts";
import { notFound } from "../../errors.ts";
import { actOnAlerts, WORKFLOW } from "../../services/act-on-alerts.ts";
import { type AlertRow, getAlert, listAlerts } from "../../store/alerts.ts";
import { drillIdsAmong } from "../../store/drills-rehearsal.ts";
import type { AppDeps } from "../context.ts";
import { REVIEWER, VIEWER } from "../middleware/auth.ts";
import { errorResponses, IdParam, jsonResponse, newRouter, text } from "../openapi.ts";
import { decodeCursor, page } from "../pagination.ts";
import { access } from "../roles.ts";
import { Timestamp } from "../schemas.ts";
import { alertSummaries, readerLang } from "./words.ts";

const tags = ["alerts"];
const STATUSES = ["open", "acknowledged", "resolved", "dismissed"] as const;

export const AlertSchema = z
  .object({
    id: z.string(),
    rule: z.string(),
    severity: z.enum(SEVERITIES),
    status: z.enum(STATUSES),
    account_ids: z.array(z.string()),
    incident_id: z.string().nullable(),
    /** the drill the alert was raised in: its incident is a drill (docs/drills-rehearsal.md) */
    drill_id: z.string().nullable(),
    key: z.string(),
    summary: z.string(),
    evidence: z.record(z.string(), z.unknown()),
    count: z.number().int(),
    first_seen_at: z.string(),
    last_seen_at: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    /** `auto_learned`: resolved by tether when the value it is about healed into the baseline */
    verdict: z.enum(["actionable", "false_positive", "auto_learned"]).nullable(),
    note: z.string().nullable(),
  })
  .openapi("Alert");

/**
 * An alert as the API shows it; `summary` in the reader's language when the route worded it, `drills` the
 * drill ids among the alerts' incidents (drillIdsAmong).
 */
export function alertJson(
  a: AlertRow,
  summary = a.summary,
  drills: ReadonlySet<string> = new Set(),
): z.infer<typeof AlertSchema> {
  return {
    id: a.id,
    rule: a.rule,
    severity: a.severity as z.infer<typeof AlertSchema>["severity"],
    status: a.status,
    account_ids: a.accountIds,
    incident_id: a.incidentId,
    drill_id: a.incidentId !== null && drills.has(a.incidentId) ? a.incidentId : null,
    key: a.key,
    summary,
    evidence: a.evidence,
    count: a.count,
    first_seen_at: a.firstSeenAt.toISOString(),
    last_seen_at: a.lastSeenAt.toISOString(),
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
    verdict: a.verdict as z.infer<typeof AlertSchema>["verdict"],
    note: a.note,
  };
}

const ActionBody = z
  .object({
    note: text(2000).optional(),
    verdict: z.enum(["actionable", "false_positive"]).optional(),
  })
  .strict()
  .openapi("AlertAction");

const list = createRoute({
  method: "get",
  path: "/v1/alerts",
  tags,
  summary: "List alerts, newest first",
  ...access(...VIEWER),
  request: {
    query: z.object({
      status: z.enum(STATUSES).optional(),
      severity: z.enum(SEVERITIES).optional(),
      rule: z.string().max(64).optional(),
      account_id: z.string().max(128).optional(),
      incident_id: z.string().max(128).optional(),
      since: Timestamp.optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50),
      cursor: z.string().max(200).optional(),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ alerts: z.array(AlertSchema), next_cursor: z.string().nullable() }),
      "A page",
    ),
    ...errorResponses(400, 401, 403),
  },
});

const get = createRoute({
  method: "get",
  path: "/v1/alerts/{id}",
  tags,
  summary: "One alert",
  ...access(...VIEWER),
  request: { params: IdParam },
  responses: { 200: jsonResponse(AlertSchema, "The alert"), ...errorResponses(401, 403, 404) },
});

const actionRoute = (action: keyof typeof WORKFLOW, summary: string) =>
  createRoute({
    method: "post",
    path: `/v1/alerts/{id}/${action}`,
    tags,
    summary,
    ...access(...REVIEWER),
    request: {
      params: IdParam,
      body: { required: false, content: { "application/json": { schema: ActionBody } } },
    },
    responses: {
      200: jsonResponse(AlertSchema, "The alert after the action"),
      ...errorResponses(400, 401, 403, 404, 409),
    },
  });

export function alertsRouter(deps: AppDeps) {
  const db = deps.database.db;
  const router = newRouter()
    .openapi(list, async (c) => {
      const auth = c.get("auth");
      const q = c.req.valid("query");
      const found = page(
        await listAlerts(
          db,
          auth.workspaceId,
          {
            status: q.status,
            severity: q.severity,
            rule: q.rule,
            accountId: q.account_id,
            incidentId: q.incident_id,
            since: q.since ? new Date(q.since) : undefined,
          },
          q.limit,
          decodeCursor(q.cursor),
        ),
        q.limit,
      );
      const summaries = await alertSummaries(db, auth.workspaceId, readerLang(c), found.items);
      const drills = await drillIdsAmong(
        db,
        auth.workspaceId,
        found.items.map((a) => a.incidentId),
      );
      return c.json(
        {
          alerts: found.items.map((a, i) => alertJson(a, summaries[i], drills)),
          next_cursor: found.next_cursor,
        },
        200,
      );
    })
    .openapi(get, async (c) => {
      const workspaceId = c.get("auth").workspaceId;
      const row = await getAlert(db, workspaceId, c.req.valid("param").id);
      if (!row) throw notFound("alert");
      const [summary] = await alertSummaries(db, workspaceId, readerLang(c), [row]);
      const drills = await drillIdsAmong(db, workspaceId, [row.incidentId]);
      return c.json(alertJson(row, summary, drills), 200);
    });

  const summaries = {
    acknowledge: "Acknowledge: someone is looking at it",
    resolve: "Resolve: the cause was dealt with",
    dismiss: "Dismiss: not worth acting on",
    trust: "Trust: accept what the alert is about (baseline value, pin, binding or allowance) and resolve it",
  } as const;
  for (const action of Object.keys(WORKFLOW) as Array<keyof typeof WORKFLOW>) {
    router.openapi(actionRoute(action, summaries[action]), async (c) => {
      const auth = c.get("auth");
      const body = c.req.valid("json");
      const [row] = await actOnAlerts({
        ctx: { db },
        input: {
          workspaceId: auth.workspaceId,
          alertIds: [c.req.valid("param").id],
          action,
          note: body?.note,
          verdict: body?.verdict,
          actor: { tokenId: auth.tokenId, name: auth.tokenName, admin: auth.role === "admin" },
          now: deps.clock.now(),
          strict: true,
        },
      });
      const [summary] = await alertSummaries(db, auth.workspaceId, readerLang(c), [row!]);
      const drills = await drillIdsAmong(db, auth.workspaceId, [row!.incidentId]);
      return c.json(alertJson(row!, summary, drills), 200);
    });
  }
  return router;
}
