import { createRoute, z } from "@hono/zod-openapi";
import { SEVERITIES } from "../../core/model.ts";
import { resolveSettings, WorkspaceSettingsSchema } from "../../core/settings.ts";
import { writeAudit } from "../../store/audit.ts";
import { findWorkspaceBySlug, lockWorkspace, updateWorkspaceSettings } from "../../store/tenancy.ts";
import type { AppDeps } from "../context.ts";
import { ADMIN, VIEWER } from "../middleware/auth.ts";
import { errorResponses, jsonBody, jsonResponse, newRouter } from "../openapi.ts";
import { access } from "../roles.ts";

const tags = ["settings"];

const EffectiveSchema = z.object({
  learning_events: z.number(),
  learning_hours: z.number(),
  max_kmh: z.number(),
  share_days: z.number(),
  retry_limit: z.number(),
  alert_min_severity: z.enum(SEVERITIES),
  sensitive_operations: z.array(z.string()),
  shared_subnet: z.object({ enabled: z.boolean(), ipv4_prefix: z.number(), ipv6_prefix: z.number() }),
  /** a quarantined value heals after `events` clean uses spanning `hours` (docs/adr/0003) */
  heal: z.object({ events: z.number(), hours: z.number() }),
  incident: z.object({
    window_minutes: z.number(),
    quorum: z.number(),
    min_accounts: z.number(),
    min_networks: z.number(),
    hold_minutes: z.number(),
  }),
});

const SettingsSchema = z
  .object({
    // Rebuilt with the OpenAPI-aware z: the core schema is plain zod and knows no .openapi().
    overrides: z.object(WorkspaceSettingsSchema.shape).strict().openapi("WorkspaceSettings"),
    effective: EffectiveSchema,
  })
  .openapi("Settings");

/** A patch sets overrides; `null` removes one, falling back to the server's environment default. */
const PatchSchema = z
  .object(
    Object.fromEntries(
      Object.entries(WorkspaceSettingsSchema.shape).map(([k, v]) => [k, v.unwrap().nullable().optional()]),
    ) as {
      [K in keyof typeof WorkspaceSettingsSchema.shape]: z.ZodOptional<
        z.ZodNullable<ReturnType<(typeof WorkspaceSettingsSchema.shape)[K]["unwrap"]>>
      >;
    },
  )
  .strict()
  .openapi("PatchSettings");

const get = createRoute({
  method: "get",
  path: "/v1/settings",
  tags,
  summary: "The workspace's thresholds: its overrides and the values in force",
  ...access(...VIEWER),
  responses: { 200: jsonResponse(SettingsSchema, "Settings"), ...errorResponses(401, 403) },
});

const patch = createRoute({
  method: "patch",
  path: "/v1/settings",
  tags,
  summary: "Override thresholds for this workspace (null restores the default); audited",
  ...access(...ADMIN),
  request: { body: jsonBody(PatchSchema) },
  responses: { 200: jsonResponse(SettingsSchema, "Settings"), ...errorResponses(400, 401, 403) },
});

export function settingsRouter(deps: AppDeps) {
  const db = deps.database.db;
  const view = (stored: unknown) => {
    const overrides = WorkspaceSettingsSchema.parse(stored ?? {});
    const s = resolveSettings(deps.env, overrides);
    return {
      overrides,
      effective: {
        learning_events: s.learningEvents,
        learning_hours: s.learningHours,
        max_kmh: s.maxKmh,
        share_days: s.shareDays,
        retry_limit: s.retryLimit,
        alert_min_severity: s.alertMinSeverity,
        sensitive_operations: s.sensitiveOperations,
        heal: { events: s.heal.events, hours: s.heal.hours },
        incident: {
          window_minutes: s.incident.windowMinutes,
          quorum: s.incident.quorum,
          min_accounts: s.incident.minAccounts,
          min_networks: s.incident.minNetworks,
          hold_minutes: s.incident.holdMinutes,
        },
        shared_subnet: {
          enabled: s.sharedSubnet.enabled,
          ipv4_prefix: s.sharedSubnet.ipv4Prefix,
          ipv6_prefix: s.sharedSubnet.ipv6Prefix,
        },
      },
    };
  };
  return newRouter()
    .openapi(get, async (c) => {
      const ws = await findWorkspaceBySlug(db, c.get("auth").workspaceSlug);
      return c.json(view(ws?.settings), 200);
    })
    .openapi(patch, async (c) => {
      const auth = c.get("auth");
      const body = c.req.valid("json");
      const now = deps.clock.now();
      const updated = await db.transaction(async (tx) => {
        await lockWorkspace(tx, auth.workspaceId);
        const ws = await findWorkspaceBySlug(tx, auth.workspaceSlug);
        const next: Record<string, unknown> = { ...(ws?.settings ?? {}) };
        for (const [k, v] of Object.entries(body)) {
          if (v === null) delete next[k];
          else if (v !== undefined) next[k] = v;
        }
        const row = await updateWorkspaceSettings(tx, auth.workspaceId, next);
        await writeAudit(tx, auth.workspaceId, { tokenId: auth.tokenId, name: auth.tokenName }, now, [
          {
            action: "settings.updated",
            targetType: "workspace",
            targetId: auth.workspaceId,
            details: { before: ws?.settings ?? {}, after: next },
          },
        ]);
        return row;
      });
      deps.authCache.clear();
      return c.json(view(updated.settings), 200);
    });
}
