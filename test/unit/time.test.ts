import { describe, expect, it } from "vitest";
import { isValidTimeZone, utcOffsetMinutes } from "../../src/core/time.ts";

describe("isValidTimeZone", () => {
  it.each(["America/Los_Angeles", "Asia/Shanghai", "Europe/Kyiv", "UTC", "Etc/GMT+5", "US/Pacific"])(
    "accepts %s",
    (tz) => {
      expect(isValidTimeZone(tz)).toBe(true);
    },
  );

  it.each(["Mars/Base", "", "America/Los Angeles", "+05:00", "-08:00", "PST8PDT/Nowhere", "Z"])(
    "rejects %j",
    (tz) => {
      expect(isValidTimeZone(tz)).toBe(false);
    },
  );
});

describe("utcOffsetMinutes", () => {
  it("follows daylight saving time in Los Angeles", () => {
    expect(utcOffsetMinutes("America/Los_Angeles", new Date("2026-01-15T12:00:00Z"))).toBe(-480);
    expect(utcOffsetMinutes("America/Los_Angeles", new Date("2026-07-15T12:00:00Z"))).toBe(-420);
  });

  it("switches at the exact instant DST starts", () => {
    // 2026-03-08 02:00 PST is 10:00 UTC.
    expect(utcOffsetMinutes("America/Los_Angeles", new Date("2026-03-08T09:59:59Z"))).toBe(-480);
    expect(utcOffsetMinutes("America/Los_Angeles", new Date("2026-03-08T10:00:00Z"))).toBe(-420);
  });

  it("handles zones east of UTC, fractional hours and UTC itself", () => {
    expect(utcOffsetMinutes("Asia/Shanghai", new Date("2026-01-15T12:00:00Z"))).toBe(480);
    expect(utcOffsetMinutes("Asia/Shanghai", new Date("2026-07-15T12:00:00Z"))).toBe(480);
    expect(utcOffsetMinutes("Asia/Kathmandu", new Date("2026-01-15T12:00:00Z"))).toBe(345);
    expect(utcOffsetMinutes("America/St_Johns", new Date("2026-01-15T12:00:00Z"))).toBe(-210);
    expect(utcOffsetMinutes("UTC", new Date("2026-01-15T12:00:00Z"))).toBe(0);
  });

  it("rounds historic offsets with seconds to the minute", () => {
    // Liberia kept local mean time, GMT-0:44:30, until 1972.
    expect(utcOffsetMinutes("Africa/Monrovia", new Date("1960-01-01T00:00:00Z"))).toBe(-45);
  });

  it("throws for an unknown zone", () => {
    expect(() => utcOffsetMinutes("Mars/Base", new Date())).toThrow(RangeError);
  });
});
