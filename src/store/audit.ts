import { and, desc, eq, gte, like, lt, or } from "drizzle-orm";
import { auditLog } from "../../db/schema/tenancy.ts";
import { newId } from "../ids.ts";
import type { Db } from "./db.ts";

export interface Actor {
  tokenId: string | null;
  name: string;
}

export interface AuditEntry {
  action: string;
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
}

export async function writeAudit(
  db: Db,
  workspaceId: string,
  actor: Actor,
  at: Date,
  entries: AuditEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await db.insert(auditLog).values(
    entries.map((e) => ({
      id: newId("aud"),
      workspaceId,
      actorTokenId: actor.tokenId,
      actorName: actor.name,
      action: e.action,
      targetType: e.targetType,
      targetId: e.targetId,
      details: e.details ?? {},
      at,
    })),
  );
}

export interface AuditFilter {
  /** a token id, or an actor name (`bootstrap`, `cli:<user>`, a token's name) */
  actor?: string;
  /** an action, or every action of a kind with a trailing `.*` (`token.*`) */
  action?: string;
  targetType?: string;
  targetId?: string;
  since?: Date;
  until?: Date;
}

/** One workspace's audit rows, newest first, `limit + 1` of them so the caller knows whether more follow. */
export async function listAudit(
  db: Db,
  workspaceId: string,
  filter: AuditFilter,
  limit: number,
  before: string | null,
) {
  const action = filter.action;
  return db
    .select()
    .from(auditLog)
    .where(
      and(
        eq(auditLog.workspaceId, workspaceId),
        filter.actor
          ? or(eq(auditLog.actorTokenId, filter.actor), eq(auditLog.actorName, filter.actor))
          : undefined,
        action?.endsWith(".*")
          ? like(auditLog.action, `${action.slice(0, -1).replace(/[\\%_]/g, "\\$&")}%`)
          : action
            ? eq(auditLog.action, action)
            : undefined,
        filter.targetType ? eq(auditLog.targetType, filter.targetType) : undefined,
        filter.targetId ? eq(auditLog.targetId, filter.targetId) : undefined,
        filter.since ? gte(auditLog.at, filter.since) : undefined,
        filter.until ? lt(auditLog.at, filter.until) : undefined,
        before ? lt(auditLog.id, before) : undefined,
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(limit + 1);
}
