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
