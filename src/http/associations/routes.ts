import { createRoute, z } from "@hono/zod-openapi";
import { clusters } from "../../core/clusters.ts";
import { listLinks } from "../../store/associations.ts";
import type { AppDeps } from "../context.ts";
import { SlugSchema } from "../events/schemas.ts";
import { VIEWER } from "../middleware/auth.ts";
import { errorResponses, jsonResponse, newRouter } from "../openapi.ts";
import { access } from "../roles.ts";
import { Timestamp } from "../schemas.ts";

const LinkSchema = z
  .object({
    account_ids: z.array(z.string()).length(2),
    kind: z.enum(["device", "ip", "subnet"]),
    value: z.string(),
    first_seen_at: z.string(),
    last_seen_at: z.string(),
    count: z.number().int(),
    first_event_id: z.string(),
    last_event_id: z.string(),
    groups: z.array(z.string().nullable()).length(2),
    allowed: z.boolean().openapi({ description: "a person trusted this sharing; it joins no cluster" }),
  })
  .openapi("Link");

const ClusterSchema = z
  .object({
    account_ids: z.array(z.string()),
    groups: z.array(z.string().nullable()),
    kinds: z.array(z.string()),
    links: z.number().int(),
  })
  .openapi("Cluster");

const route = createRoute({
  method: "get",
  path: "/v1/associations",
  tags: ["associations"],
  summary: "Devices, IPs and subnets shared across isolation groups, and the clusters they connect",
  description:
    "Links between accounts of different groups (a null group is isolated from all) that used the same device id, " +
    "public IP or subnet within the sharing window, newest first; clusters are connected components of the links " +
    "that span at least two groups. Trusted links are listed with `allowed: true` and connect nothing.",
  ...access(...VIEWER),
  request: {
    query: z.object({
      platform: SlugSchema.optional().openapi({
        description: "only links between two accounts of this platform",
      }),
      kind: z.enum(["device", "ip", "subnet"]).optional(),
      account_id: z.string().max(128).optional(),
      since: Timestamp.optional().openapi({ description: "default: now − TETHER_SHARE_DAYS" }),
      limit: z.coerce.number().int().min(1).max(500).default(500),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ links: z.array(LinkSchema), clusters: z.array(ClusterSchema), truncated: z.boolean() }),
      "Links and clusters",
    ),
    ...errorResponses(400, 401, 403),
  },
});

export function associationsRouter(deps: AppDeps) {
  return newRouter().openapi(route, async (c) => {
    const auth = c.get("auth");
    const q = c.req.valid("query");
    const since = q.since
      ? Date.parse(q.since)
      : deps.clock.now().getTime() - auth.settings.shareDays * 86_400_000;
    const rows = await listLinks(
      deps.database.db,
      auth.workspaceId,
      { since, platform: q.platform, kind: q.kind, accountId: q.account_id },
      q.limit + 1,
    );
    const shown = rows.slice(0, q.limit);
    return c.json(
      {
        links: shown.map((l) => ({
          account_ids: [l.accountA, l.accountB],
          kind: l.kind,
          value: l.value,
          first_seen_at: new Date(l.firstSeenAt).toISOString(),
          last_seen_at: new Date(l.lastSeenAt).toISOString(),
          count: l.count,
          first_event_id: l.firstEventId,
          last_event_id: l.lastEventId,
          groups: [l.groupA, l.groupB],
          allowed: l.allowed,
        })),
        clusters: clusters(shown),
        truncated: rows.length > q.limit,
      },
      200,
    );
  });
}
