import { newSecret } from "./ids.ts";
import { isUniqueViolation } from "./store/accounts.ts";
import type { Db } from "./store/db.ts";
import { countWorkspaces, createWorkspace, issueToken } from "./store/tenancy.ts";

/**
 * First start: create workspace `default` and its admin token. The secret is TETHER_BOOTSTRAP_TOKEN when set,
 * otherwise a random one that is returned (to print once) and never stored in clear.
 */
export async function bootstrap(
  db: Db,
  bootstrapToken: string | undefined,
  now: Date,
): Promise<{ secret: string; generated: boolean } | null> {
  if ((await countWorkspaces(db)) > 0) return null;
  try {
    return await db.transaction(async (tx) => {
      const ws = await createWorkspace(tx, { slug: "default", name: "Default workspace" }, now);
      const secret = bootstrapToken ?? newSecret("user");
      await issueToken(
        tx,
        { workspaceId: ws.id, kind: "user", role: "admin", name: "bootstrap admin", secret },
        now,
      );
      return { secret, generated: bootstrapToken === undefined };
    });
  } catch (err) {
    // Another server bootstrapped the same database at the same moment.
    if (isUniqueViolation(err)) return null;
    throw err;
  }
}
