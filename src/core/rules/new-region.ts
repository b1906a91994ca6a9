import { finding, netEvidence, publicNet, type Rule } from "./types.ts";

/** A new state or province inside a country the account already uses (a new country is `new_country`). */
export const newRegion: Rule = {
  id: "new_region",
  severity: "medium",
  quietWhileLearning: true,
  evaluate(ctx) {
    const net = publicNet(ctx);
    if (!net?.region || !ctx.baseline.has("country", net.country)) return [];
    if (ctx.baseline.has("region", net.region)) return [];
    return [
      finding(
        this,
        ctx,
        net.region,
        {
          ...netEvidence(ctx),
          known_regions: [...ctx.baseline.entries("region").keys()],
        },
        { about: [["region", net.region]] },
      ),
    ];
  },
};
