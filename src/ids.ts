import { randomBytes } from "node:crypto";
import { monotonicFactory } from "ulidx";

const ulid = monotonicFactory();

/** Opaque, time-ordered ids: sorting by id sorts by creation, which makes stable cursors. */
export function newId(prefix: string): string {
  return `${prefix}_${ulid().toLowerCase()}`;
}

/**
 * A token's secret: `tta_`/`ttu_`, the public part of the token's id, `_`, 192 random bits. Carrying the id lets
 * the server find the row by id and compare hashes in constant time, and lets rate limits count per token.
 */
export function newSecret(kind: "agent" | "user", tokenId: string): string {
  const [, publicPart] = tokenId.split("_");
  return `${kind === "agent" ? "tta" : "ttu"}_${publicPart}_${randomBytes(24).toString("base64url")}`;
}

/** The token id a secret issued by newSecret names, or null (a chosen bootstrap secret, a guess, a typo). */
export function tokenIdOfSecret(secret: string): string | null {
  const match = /^tt[au]_([0-9a-z]{26})_[\w-]{32}$/.exec(secret);
  return match ? `tok_${match[1]}` : null;
}
