import { createHash, randomBytes } from "node:crypto";
import { monotonicFactory } from "ulidx";

const ulid = monotonicFactory();

/** Opaque, time-ordered ids: sorting by id sorts by creation, which makes stable cursors. */
export function newId(prefix: string): string {
  return `${prefix}_${ulid().toLowerCase()}`;
}

export function newSecret(kind: "agent" | "user"): string {
  return `${kind === "agent" ? "tta" : "ttu"}_${randomBytes(24).toString("base64url")}`;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
