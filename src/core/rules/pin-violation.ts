import { ipInCidr } from "../cidr.ts";
import type { Finding } from "../model.ts";
import { finding, publicNet, type Rule, type RuleContext } from "./types.ts";

type Check = {
  dimension: string;
  value: string | number | null | undefined;
  allowed: (string | number)[] | undefined;
  ok?: boolean;
};

/** The differences between an event's environment and its account's pin. */
function pinDeviations(ctx: RuleContext): Check[] {
  const pin = ctx.account.pin;
  if (!pin) return [];
  const net = publicNet(ctx);
  const checks: Check[] = [
    { dimension: "cidrs", value: ctx.event.net?.ip, allowed: pin.cidrs },
    { dimension: "asns", value: net?.asn, allowed: pin.asns },
    { dimension: "countries", value: net?.country, allowed: pin.countries },
    { dimension: "regions", value: net?.region, allowed: pin.regions },
    { dimension: "timezones", value: ctx.event.timezone, allowed: pin.timezones },
    { dimension: "locales", value: ctx.event.locale, allowed: pin.locales },
    { dimension: "device_ids", value: ctx.event.deviceId, allowed: pin.device_ids },
    { dimension: "network_types", value: net?.networkType, allowed: pin.network_types },
  ];
  return checks.filter((c) => {
    if (!c.allowed || c.allowed.length === 0) return false;
    // An unknown value cannot be shown to comply: a pinned network with an unlocatable IP is a deviation.
    if (c.value === null || c.value === undefined)
      return c.dimension !== "device_ids" && c.dimension !== "locales";
    if (c.dimension === "cidrs") return !c.allowed.some((cidr) => ipInCidr(String(c.value), String(cidr)));
    return !c.allowed.map(String).includes(String(c.value));
  });
}

export const pinViolation: Rule = {
  id: "pin_violation",
  severity: "high",
  quietWhileLearning: false,
  evaluate(ctx) {
    return pinDeviations(ctx).map(
      (c): Finding =>
        finding(this, ctx, `${c.dimension}:${c.value ?? "unknown"}`, {
          dimension: c.dimension,
          value: c.value ?? null,
          pinned: c.allowed,
        }),
    );
  },
};
