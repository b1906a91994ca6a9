/**
 * The signatures each receiver checks, as their documentation defines them, and the sealing of channel
 * secrets at rest (docs/adr/0018-notifications-outbox.md).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";

/** A Standard Webhooks secret: `whsec_` and the base64 of the signing key. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(24).toString("base64")}`;

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the base64-decoded part after `whsec_`. */
export function webhookSignature(secret: string, id: string, timestampS: number, body: string): string {
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
  return `v1,${createHmac("sha256", key).update(`${id}.${timestampS}.${body}`).digest("base64")}`;
}

/** DingTalk custom robot: base64 HMAC-SHA256 keyed by the secret of "timestamp\nsecret" (milliseconds). */
export const dingtalkSign = (secret: string, timestampMs: number): string =>
  createHmac("sha256", secret).update(`${timestampMs}\n${secret}`).digest("base64");

/** Feishu/Lark bot: base64 HMAC-SHA256 keyed by "timestamp\nsecret" of an empty message (seconds). */
export const feishuSign = (secret: string, timestampS: number): string =>
  createHmac("sha256", `${timestampS}\n${secret}`).update("").digest("base64");

const SEAL_INFO = "tether channel secrets v1";

/** The key that seals channel secrets, derived from the token pepper so one server secret protects both. */
export const sealingKey = (pepperKey: Buffer): Buffer =>
  Buffer.from(hkdfSync("sha256", pepperKey, Buffer.alloc(0), SEAL_INFO, 32));

/** AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>` in base64url; the channel id is bound as associated data. */
export function sealSecret(key: Buffer, channelId: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(channelId));
  const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return ["v1", iv, cipher.getAuthTag(), sealed]
    .map((p) => (typeof p === "string" ? p : p.toString("base64url")))
    .join(".");
}

export function openSecret(key: Buffer, channelId: string, sealed: string): string {
  const [version, iv, tag, data] = sealed.split(".");
  if (version !== "v1" || !iv || !tag || data === undefined) throw new Error("not a sealed channel secret");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(channelId));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
}
