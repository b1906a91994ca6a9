import { finding, publicNet, type Rule } from "./types.ts";

const HOUR = 3_600_000;
const MAX_IPS = 3;
const MAX_ASNS = 2;

/** One account seen from ≥3 IPs or ≥2 networks within any one hour that contains this event. */
export const envHopping: Rule = {
  id: "env_hopping",
  severity: "high",
  quietWhileLearning: false,
  evaluate(ctx) {
    const net = publicNet(ctx);
    if (!net) return [];
    const t = ctx.event.occurredAt;
    const near = ctx.history.filter(
      (p): p is typeof p & { ip: string } =>
        p.ip !== null && p.id !== ctx.event.id && Math.abs(p.occurredAt - t) <= HOUR,
    );
    const points = [...near, { occurredAt: t, ip: net.ip, asn: net.asn }];
    // Every one-hour window that holds this event starts at one of the points at or before it.
    for (const start of points) {
      if (start.occurredAt > t || t - start.occurredAt > HOUR) continue;
      const inside = points.filter(
        (p) => p.occurredAt >= start.occurredAt && p.occurredAt <= start.occurredAt + HOUR,
      );
      const ips = new Set(inside.map((p) => p.ip));
      const asns = new Set(inside.flatMap((p) => (p.asn === null ? [] : [p.asn])));
      if (ips.size < MAX_IPS && asns.size < MAX_ASNS) continue;
      const sortedAsns = [...asns].sort((a, b) => a - b);
      // One live alert per account however the episode grows (a third network must not open a second
      // alert); the networks seen are in the evidence, and trust allows hopping for this account.
      return [
        finding(this, ctx, "", `${ips.size} IPs across ${asns.size} network(s) within one hour`, {
          ips: [...ips].sort(),
          asns: sortedAsns,
          window_start: new Date(start.occurredAt).toISOString(),
        }),
      ];
    }
    return [];
  },
};
