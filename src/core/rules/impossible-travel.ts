import { haversineKm } from "../geo-distance.ts";
import { finding, publicNet, type Rule } from "./types.ts";

const MIN_DISTANCE_KM = 100;
/** geoip accuracy radii can be 1000 km for country-level hits; count at most this much of each as slack. */
const MAX_SLACK_KM = 250;
const HOUR = 3_600_000;

const place = (p: { country: string | null; region: string | null; city: string | null }) =>
  [p.country, p.region, p.city].filter(Boolean).join("/") || "unknown";

/**
 * Two events of one account imply a speed no traveller reaches. Compared with the nearest located event
 * before and after this one in occurred_at order, so a late, replayed event is judged where it belongs.
 */
export const impossibleTravel: Rule = {
  id: "impossible_travel",
  severity: "high",
  quietWhileLearning: false,
  evaluate(ctx) {
    const net = publicNet(ctx);
    if (!net || net.lat === null || net.lon === null) return [];
    const t = ctx.event.occurredAt;
    const { before, after } = ctx.history.nearest(t, (p) => p.lat !== null && p.lon !== null, ctx.event.id);
    for (const other of [before, after]) {
      if (!other) continue;
      const raw = haversineKm(net.lat, net.lon, other.lat!, other.lon!);
      const slack =
        Math.min(net.accuracyKm ?? 0, MAX_SLACK_KM) + Math.min(other.accuracyKm ?? 0, MAX_SLACK_KM);
      const km = raw - slack;
      if (km <= MIN_DISTANCE_KM) continue;
      const hours = Math.abs(t - other.occurredAt) / HOUR;
      const kmh = hours === 0 ? Number.POSITIVE_INFINITY : km / hours;
      if (kmh <= ctx.settings.maxKmh) continue;
      const here = place(net);
      const there = place(other);
      const key = [here, there].sort().join(" ~ ");
      return [
        finding(this, ctx, key, {
          from: {
            event_id: other.id,
            ip: other.ip,
            place: there,
            at: new Date(other.occurredAt).toISOString(),
          },
          to: { event_id: ctx.event.id, ip: net.ip, place: here },
          distance_km: Math.round(raw),
          speed_kmh: Number.isFinite(kmh) ? Math.round(kmh) : null,
          max_kmh: ctx.settings.maxKmh,
        }),
      ];
    }
    return [];
  },
};
