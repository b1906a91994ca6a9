import { utcOffsetMinutes } from "../time.ts";
import { finding, publicNet, type Rule } from "./types.ts";

/**
 * The device clock's zone disagrees with where its IP is (always checked: a proxy exit far from the
 * profile's timezone is what platforms link on), or with the zones the account was seen with (after learning).
 */
export const timezoneMismatch: Rule = {
  id: "timezone_mismatch",
  severity: "medium",
  quietWhileLearning: false,
  evaluate(ctx) {
    const tz = ctx.event.timezone;
    if (!tz) return [];
    const net = publicNet(ctx);
    const at = new Date(ctx.event.occurredAt);
    const out = [];
    // The same zone name always agrees with itself: no offsets to compute.
    if (net?.timezone && net.timezone !== tz) {
      const device = utcOffsetMinutes(tz, at);
      const geo = utcOffsetMinutes(net.timezone, at);
      if (device !== geo) {
        out.push(
          finding(this, ctx, `geo:${tz}|${net.timezone}`, {
            timezone: tz,
            ip: net.ip,
            ip_timezone: net.timezone,
            device_offset_minutes: device,
            ip_offset_minutes: geo,
          }),
        );
      }
    }
    // Checked even when the IP check fired, so a new zone never becomes normal through a mismatching event.
    if (!ctx.account.learning && ctx.baseline.total("timezone") > 0 && !ctx.baseline.has("timezone", tz)) {
      out.push(
        finding(
          this,
          ctx,
          `baseline:${tz}`,
          { timezone: tz, known_timezones: [...ctx.baseline.entries("timezone").keys()] },
          { about: [["timezone", tz]] },
        ),
      );
    }
    return out;
  },
};
