import type { BaselineKind } from "../baseline.ts";
import { finding, publicNet, type Rule } from "./types.ts";

/**
 * During an outage the improvised fix is to "try another network": an IP, network or device the account was
 * never normal with, while its platform is failing, links accounts and cannot fix a platform fault.
 */
export const incidentNetworkSwitch: Rule = {
  id: "incident_network_switch",
  severity: "critical",
  quietWhileLearning: false,
  evaluate(ctx) {
    if (!ctx.incident) return [];
    const net = publicNet(ctx);
    const switched: string[] = [];
    // What switched stays out of the baseline until trusted, like any deviation that alerts.
    const about: Array<[BaselineKind, string]> = [];
    if (net && ctx.baseline.total("ip") > 0 && !ctx.baseline.has("ip", net.ip)) {
      switched.push(`ip:${net.ip}`);
      about.push(["ip", net.ip], ["subnet", net.subnet]);
    }
    if (net?.asn != null && ctx.baseline.total("asn") > 0 && !ctx.baseline.has("asn", net.asn)) {
      switched.push(`asn:AS${net.asn}`);
      about.push(["asn", String(net.asn)]);
    }
    const device = ctx.event.deviceId;
    if (device && ctx.baseline.total("device") > 0 && !ctx.baseline.has("device", device)) {
      switched.push(`device:${device}`);
      about.push(["device", device]);
    }
    if (switched.length === 0) return [];
    return [
      finding(
        this,
        ctx,
        switched.join(" "),
        {
          switched,
          incident_id: ctx.incident.id,
          platform: ctx.incident.platform,
          incident_title: ctx.incident.title,
          ip: net?.ip ?? null,
          asn: net?.asn ?? null,
          device_id: device,
          operator: ctx.event.operator,
        },
        { about },
      ),
    ];
  },
};
