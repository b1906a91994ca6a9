import { finding, publicNet, type Rule } from "./types.ts";

export const newNetwork: Rule = {
  id: "new_network",
  severity: "medium",
  quietWhileLearning: true,
  evaluate(ctx) {
    const net = publicNet(ctx);
    if (!net || net.asn === null || ctx.baseline.total("asn") === 0 || ctx.baseline.has("asn", net.asn))
      return [];
    return [
      finding(
        this,
        ctx,
        `AS${net.asn}`,
        {
          ip: net.ip,
          asn: net.asn,
          asn_org: net.asnOrg,
          known_asns: [...ctx.baseline.entries("asn").keys()].map(Number),
        },
        { about: [["asn", String(net.asn)]] },
      ),
    ];
  },
};
