import { describe, expect, it } from "vitest";
import { ApiError, envelope, ISSUE_KEYS, notFound, say, sayInWords } from "../../src/errors.ts";
import { CATALOGUES, type MessageKey, translator } from "../../src/i18n/index.ts";

const zh = translator("zh-CN");

describe("the error envelope's language", () => {
  it("keeps the English message and details as they were, without their translations", () => {
    const err = new ApiError("bad_request", say("api.schema_mismatch"), [
      { path: "env.ip", message: "must be an IPv4 or IPv6 address", say: say("api.detail.ip") },
    ]);
    expect(envelope(err, "r1")).toEqual({
      error: {
        code: "bad_request",
        message: "the request does not match the schema",
        request_id: "r1",
        details: [{ path: "env.ip", message: "must be an IPv4 or IPv6 address" }],
      },
    });
  });

  it("says a plain English message as its code's sentence, never half translated", () => {
    const err = new ApiError("conflict", "cannot resolve an alert that is dismissed");
    expect(envelope(err, "r1", "zh-CN").error.message).toBe(zh("api.code.conflict"));
    expect(envelope(err, "r1", "en").error.message).toBe("cannot resolve an alert that is dismissed");
  });

  it("finds a detail written as English words, parameters and all", () => {
    const err = new ApiError("bad_request", "some events are invalid", [
      { path: "events.0.occurred_at", message: "is more than 30 days in the past" },
      { path: "events.1.account", message: "is required for login events" },
      { path: "events.2.env.locale", message: "must be a BCP 47 locale like en-US" },
      { path: "events.3.note", message: "must rhyme with orange" },
    ]);
    expect(envelope(err, "r1", "zh-CN").error.details).toEqual([
      { path: "events.0.occurred_at", message: "早于 30 天前" },
      { path: "events.1.account", message: "login 类事件必须提供此字段" },
      { path: "events.2.env.locale", message: "必须是 BCP 47 语言标记，例如 en-US" },
      { path: "events.3.note", message: zh("api.detail.invalid") },
    ]);
  });

  it("finds every detail of the catalogue by its own English words", () => {
    const keys = (Object.keys(CATALOGUES.en) as MessageKey[]).filter(
      (key) => key.startsWith("api.detail.") && !ISSUE_KEYS.has(key),
    );
    expect(keys.length).toBeGreaterThan(20);
    for (const key of keys) {
      const english = translator("en")(key, { days: 9, type: "login", id: "amazon/s-1", max: 32 });
      expect(sayInWords(english)?.(zh), key).toBe(
        zh(key, { days: 9, type: "login", id: "amazon/s-1", max: 32 }),
      );
    }
  });

  it("names what was not found in the reader's language", () => {
    expect(notFound("incident").message).toBe("incident not found");
    expect(envelope(notFound("incident"), "r1", "zh-CN").error.message).toBe("找不到该平台故障");
  });
});
