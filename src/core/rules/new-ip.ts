import { finding, netEvidence, publicNet, type Rule } from "./types.ts";

/** An IP the account was never seen with; a renewal inside a known /24 and ASN is only `low`. */
export const newIp: Rule = {
  id: "new_ip",
  severity: "medium",
  quietWhileLearning: true,
  evaluate(ctx) {
    const net = publicNet(ctx);
    if (!net || ctx.baseline.total("ip") === 0 || ctx.baseline.has("ip", net.ip)) return [];
    const familiar = ctx.baseline.has("subnet", net.subnet) && ctx.baseline.has("asn", net.asn);
    return [
      finding(
        this,
        ctx,
        net.ip,
        {
          ...netEvidence(ctx),
          subnet: net.subnet,
          familiar,
          known_ips: ctx.baseline.entries("ip").size,
        },
        {
          severity: familiar ? "low" : "medium",
          // An unfamiliar IP's subnet must not become normal through it either (docs/adr/0003).
          about: familiar
            ? [["ip", net.ip]]
            : [
                ["ip", net.ip],
                ["subnet", net.subnet],
              ],
        },
      ),
    ];
  },
};
