import { DATACENTER_TYPES } from "../enrich/network-types.ts";
import { finding, netEvidence, publicNet, type Rule } from "./types.ts";

/**
 * An event from a hosting/datacenter or VPN/proxy network while the account has never normally worked from one
 * of that type: a proxy that leaked into a cloud exit, or an operator's VPN. A platform sees exactly this, and
 * it is worse than any other new network of the same country, so it is `high` where `new_network` is `medium`.
 */
export const datacenterNetwork: Rule = {
  id: "datacenter_network",
  severity: "high",
  quietWhileLearning: true,
  evaluate(ctx) {
    const net = publicNet(ctx);
    const type = net?.networkType;
    if (!net || !type || !DATACENTER_TYPES.has(type)) return [];
    if (ctx.baseline.total("network_type") === 0 || ctx.baseline.has("network_type", type)) return [];
    return [
      finding(
        this,
        ctx,
        `${type}:AS${net.asn}`,
        {
          ...netEvidence(ctx),
          network_type: type,
          classified_by: net.networkTypeSource,
          known_types: [...ctx.baseline.entries("network_type")]
            .filter(([, entry]) => entry.accepted)
            .map(([value]) => value),
        },
        { about: [["network_type", type]] },
      ),
    ];
  },
};
