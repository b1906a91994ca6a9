import { finding, netEvidence, publicNet, type Rule } from "./types.ts";

export const newCountry: Rule = {
  id: "new_country",
  severity: "high",
  quietWhileLearning: true,
  evaluate(ctx) {
    const net = publicNet(ctx);
    if (!net?.country || ctx.baseline.total("country") === 0 || ctx.baseline.has("country", net.country))
      return [];
    return [
      finding(
        this,
        ctx,
        net.country,
        {
          ...netEvidence(ctx),
          known_countries: [...ctx.baseline.entries("country").keys()],
        },
        {
          about: net.region
            ? [
                ["country", net.country],
                ["region", net.region],
              ]
            : [["country", net.country]],
        },
      ),
    ];
  },
};
