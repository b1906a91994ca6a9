import { z } from "@hono/zod-openapi";
import type { IncidentRow } from "../../store/incidents.ts";

export const IncidentSchema = z
  .object({
    id: z.string(),
    platform: z.string(),
    region: z.string().nullable(),
    title: z.string(),
    source: z.enum(["declared", "detected"]),
    status: z.enum(["active", "closed"]),
    started_at: z.string(),
    ended_at: z.string().nullable(),
    evidence: z.record(z.string(), z.unknown()),
  })
  .openapi("Incident");

export function incidentJson(i: IncidentRow): z.infer<typeof IncidentSchema> {
  return {
    id: i.id,
    platform: i.platform,
    region: i.region,
    title: i.title,
    source: i.source,
    status: i.status,
    started_at: i.startedAt.toISOString(),
    ended_at: i.endedAt?.toISOString() ?? null,
    evidence: i.evidence,
  };
}
