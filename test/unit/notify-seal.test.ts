import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openSecret, sealingKey, sealSecret } from "../../src/core/notify/sign.ts";

describe("sealed channel secrets", () => {
  const key = sealingKey(Buffer.from("a pepper of at least thirty-two characters"));

  it("opens what it sealed, and the sealed text does not contain the secret", () => {
    const sealed = sealSecret(key, "chn_1", "SECdingtalk-signing-secret");
    expect(sealed).not.toContain("SECdingtalk");
    expect(openSecret(key, "chn_1", sealed)).toBe("SECdingtalk-signing-secret");
    expect(sealSecret(key, "chn_1", "same")).not.toBe(sealSecret(key, "chn_1", "same"));
  });

  it("refuses a secret moved to another channel, changed, or sealed under another pepper", () => {
    const sealed = sealSecret(key, "chn_1", "routing-key");
    expect(() => openSecret(key, "chn_2", sealed)).toThrow();
    const [v, iv, tag, data] = sealed.split(".");
    const flipped = Buffer.from(data!, "base64url");
    flipped[0]! ^= 1;
    expect(() => openSecret(key, "chn_1", [v, iv, tag, flipped.toString("base64url")].join("."))).toThrow();
    expect(() => openSecret(sealingKey(randomBytes(32)), "chn_1", sealed)).toThrow();
  });
});
