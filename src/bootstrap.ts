import { isUniqueViolation } from "./store/accounts.ts";
import { writeAudit } from "./store/audit.ts";
import type { Db } from "./store/db.ts";
import {
  countWorkspaces,
  createWorkspace,
  issueToken,
  loadPepper,
  upgradeTokenHashes,
} from "./store/tenancy.ts";

/**
 * Every start: re-key tokens issued before the pepper, then, on the first start, create workspace `default`
 * and its admin token. The secret is TETHER_BOOTSTRAP_TOKEN when set, otherwise a random one that is returned
 * (to print once) and never stored in clear.
 */
export async function bootstrap(
  db: Db,
  bootstrapToken: string | undefined,
  now: Date,
  configuredPepper?: string,
): Promise<{ secret: string; generated: boolean } | null> {
  const pepper = await loadPepper(db, configuredPepper);
  const { foreign } = await db.transaction((tx) => upgradeTokenHashes(tx, pepper));
  if (foreign > 0) {
    // Serving would answer 401 to every one of them with no hint why.
    throw new Error(
      `${foreign} live token(s) were hashed under another token pepper (pepper id ${pepper.id} now): ` +
        "set TETHER_TOKEN_PEPPER back to the value they were issued under, or revoke them in the database",
    );
  }
  if ((await countWorkspaces(db)) > 0) return null;
  try {
    return await db.transaction(async (tx) => {
      const ws = await createWorkspace(tx, { slug: "default", name: "Default workspace" }, now);
      const generated = bootstrapToken === undefined;
      const { token, secret } = await issueToken(
        tx,
        { workspaceId: ws.id, kind: "user", role: "admin", name: "bootstrap admin", secret: bootstrapToken },
        pepper,
        now,
      );
      await writeAudit(tx, ws.id, { tokenId: null, name: "bootstrap" }, now, [
        {
          action: "workspace.created",
          targetType: "workspace",
          targetId: ws.id,
          details: { slug: "default" },
        },
        {
          action: "token.issued",
          targetType: "token",
          targetId: token.id,
          details: { kind: "user", role: "admin", chosen_secret: !generated },
        },
      ]);
      return { secret, generated };
    });
  } catch (err) {
    // Another server bootstrapped the same database at the same moment.
    if (isUniqueViolation(err)) return null;
    throw err;
  }
}
