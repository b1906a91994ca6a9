import type { Finding, Severity } from "../model.ts";
import { finding, MAX_PEERS, type Rule, type RuleContext, type ShareKind } from "./types.ts";

function sharedRule(id: string, kind: ShareKind, severity: Severity): Rule {
  return {
    id,
    severity,
    quietWhileLearning: false,
    evaluate(ctx: RuleContext): Finding[] {
      if (kind === "subnet" && !ctx.settings.sharedSubnet.enabled) return [];
      const out: Finding[] = [];
      for (const shared of ctx.shared) {
        if (shared.kind !== kind) continue;
        for (const peer of shared.peers.slice(0, MAX_PEERS)) {
          out.push(
            finding(
              this,
              ctx,
              shared.value,
              {
                kind,
                value: shared.value,
                accounts: [
                  {
                    account_id: ctx.account.id,
                    group: ctx.account.group,
                    first_seen_at: new Date(shared.firstSeen).toISOString(),
                    event_id: ctx.event.id,
                  },
                  {
                    account_id: peer.accountId,
                    group: peer.group,
                    first_seen_at: new Date(peer.firstSeen).toISOString(),
                    last_seen_at: new Date(peer.lastSeen).toISOString(),
                    event_id: peer.lastEventId,
                  },
                ],
                peers_in_window: shared.peers.length,
              },
              { accountIds: [ctx.account.id, peer.accountId] },
            ),
          );
        }
      }
      return out;
    },
  };
}

export const sharedDevice = sharedRule("shared_device", "device", "critical");
export const sharedIp = sharedRule("shared_ip", "ip", "high");
export const sharedSubnet = sharedRule("shared_subnet", "subnet", "medium");
