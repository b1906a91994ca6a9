import { and, count, eq } from "drizzle-orm";
import { alerts } from "../../db/schema/alerts.ts";
import { incidents } from "../../db/schema/incidents.ts";
import type { WorkloadCounts } from "../metrics.ts";
import type { Db } from "./db.ts";

/**
 * Open alerts by severity, active incidents by source and active drills, across every workspace: counts that
 * read only live rows (the partial indexes on unresolved alerts and active incidents cover them).
 */
export async function workloadCounts(db: Db): Promise<WorkloadCounts> {
  const [open, active, drills] = await Promise.all([
    db
      .select({ severity: alerts.severity, n: count() })
      .from(alerts)
      .where(eq(alerts.status, "open"))
      .groupBy(alerts.severity),
    db
      .select({ source: incidents.source, n: count() })
      .from(incidents)
      .where(and(eq(incidents.status, "active"), eq(incidents.kind, "incident")))
      .groupBy(incidents.source),
    db
      .select({ n: count() })
      .from(incidents)
      .where(and(eq(incidents.status, "active"), eq(incidents.kind, "drill"))),
  ]);
  return {
    openAlerts: Object.fromEntries(open.map((r) => [r.severity, r.n])),
    activeIncidents: Object.fromEntries(active.map((r) => [r.source, r.n])),
    activeDrills: drills[0]?.n ?? 0,
  };
}
