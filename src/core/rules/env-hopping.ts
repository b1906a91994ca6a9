import { finding, publicNet, type Rule } from "./types.ts";
import { firstWindowReaching } from "./window.ts";

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
    const points = ctx.history
      .around(t, HOUR)
      .filter((p) => p.ip !== null && p.id !== ctx.event.id)
      .map((p) => ({ at: p.occurredAt, values: [p.ip, p.asn === null ? null : String(p.asn)] }));
    points.push({ at: t, values: [net.ip, net.asn === null ? null : String(net.asn)] });
    const hit = firstWindowReaching(points, t, HOUR, [MAX_IPS, MAX_ASNS]);
    if (!hit) return [];
    const [ips, asnSet] = hit.distinct as [Set<string>, Set<string>];
    const sortedAsns = [...asnSet].map(Number).sort((a, b) => a - b);
    // One live alert per account however the episode grows (a third network must not open a second
    // alert); the networks seen are in the evidence.
    return [
      finding(this, ctx, "", {
        ips: [...ips].sort(),
        asns: sortedAsns,
        window_start: new Date(hit.start).toISOString(),
      }),
    ];
  },
};
