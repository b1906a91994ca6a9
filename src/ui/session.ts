import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Pepper } from "../store/tenancy.ts";

/**
 * A console session is the user's token sealed (AES-256-GCM) in an HttpOnly cookie under a key derived from
 * the token pepper: no session table, every process of a deployment opens every session, and each request
 * still authenticates the token itself, so revoking it ends its sessions at once. See docs/adr/0017.
 */
export const SESSION_COOKIE = "tether_session";
export const SESSION_TTL_MS = 12 * 3_600_000;

export interface Session {
  secret: string;
  /** per sign-in: the CSRF token of the session's forms is derived from it */
  nonce: string;
  issuedAt: number;
}

export interface SessionKeys {
  seal: Buffer;
  csrf: Buffer;
}

export const sessionKeys = (pepper: Pepper): SessionKeys => ({
  seal: createHmac("sha256", pepper.key).update("tether console session seal v1").digest(),
  csrf: createHmac("sha256", pepper.key).update("tether console csrf v1").digest(),
});

export function newSession(secret: string, now: Date): Session {
  return { secret, nonce: randomBytes(16).toString("base64url"), issuedAt: now.getTime() };
}

export function sealSession(keys: SessionKeys, session: Session): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keys.seal, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(session), "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
}

/** The session a cookie seals, or null when it was not sealed here, was altered, or has expired. */
export function openSession(keys: SessionKeys, sealed: string | undefined, now: Date): Session | null {
  if (!sealed || sealed.length > 4096) return null;
  try {
    const raw = Buffer.from(sealed, "base64url");
    const decipher = createDecipheriv("aes-256-gcm", keys.seal, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
    const session = JSON.parse(text) as Session;
    const age = now.getTime() - session.issuedAt;
    if (typeof session.secret !== "string" || typeof session.nonce !== "string" || age < 0) return null;
    return age > SESSION_TTL_MS ? null : session;
  } catch {
    return null;
  }
}

export const csrfToken = (keys: SessionKeys, session: Session): string =>
  createHmac("sha256", keys.csrf).update(session.nonce).digest("base64url");

export function csrfMatches(keys: SessionKeys, session: Session, given: unknown): boolean {
  if (typeof given !== "string") return false;
  const want = Buffer.from(csrfToken(keys, session));
  const got = Buffer.from(given);
  return want.length === got.length && timingSafeEqual(want, got);
}
