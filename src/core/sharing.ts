import { subnetOf } from "./cidr.ts";
import type { EnrichedEvent, Settings } from "./model.ts";
import type { PeerUse, SharedValue, ShareKind } from "./rules/types.ts";

const DAY = 86_400_000;

/** A shareable value of an event and the baseline kind it is indexed under. */
export interface ShareableValue {
  kind: ShareKind;
  /** `subnet` at the default /24 and /48; `subnet/<prefix>` when the workspace chose another length */
  indexKind: string;
  value: string;
}

/** The device id, public IP and subnet of an event: what accounts of different groups must never share. */
export function shareableValues(event: EnrichedEvent, settings: Settings): ShareableValue[] {
  const out: ShareableValue[] = [];
  if (event.deviceId) out.push({ kind: "device", indexKind: "device", value: event.deviceId });
  const net = event.net;
  if (net && net.ipClass === "public") {
    out.push({ kind: "ip", indexKind: "ip", value: net.ip });
    const { enabled, ipv4Prefix, ipv6Prefix } = settings.sharedSubnet;
    const prefix = net.version === 4 ? ipv4Prefix : ipv6Prefix;
    const isDefault = prefix === (net.version === 4 ? 24 : 48);
    const subnet = isDefault ? net.subnet : subnetOf(net.ip, prefix);
    if (enabled && subnet)
      out.push({ kind: "subnet", indexKind: isDefault ? "subnet" : `subnet/${prefix}`, value: subnet });
  }
  return out;
}

/** Accounts in the same non-null group may share; a null group is isolated from everyone. */
export const mayShare = (a: string | null, b: string | null) => a !== null && a === b;

/**
 * Who used which device, IP and subnet, for the accounts and values of one batch: seeded from the environment
 * index and kept current as the batch's events are judged, so two accounts linked inside one batch are seen.
 */
export class SharingIndex {
  private readonly uses = new Map<string, Map<string, PeerUse>>();

  constructor(rows: PeerUse[]) {
    for (const row of rows) this.byValue(row.kind, row.value).set(row.accountId, { ...row });
  }

  /** The event's shareable values with the accounts of other groups that used them within the sharing window. */
  shared(
    accountId: string,
    group: string | null,
    t: number,
    shareable: ShareableValue[],
    settings: Settings,
  ): SharedValue[] {
    const window = settings.shareDays * DAY;
    return shareable.map(({ kind, indexKind, value }) => {
      const users = this.byValue(indexKind, value);
      const peers = [...users.values()]
        .filter((u) => u.accountId !== accountId && !mayShare(group, u.group))
        .filter((u) => u.lastSeen >= t - window && u.firstSeen <= t + window)
        .sort((a, b) => a.firstSeen - b.firstSeen || (a.accountId < b.accountId ? -1 : 1));
      const mine = users.get(accountId);
      return { kind, value, firstSeen: mine ? Math.min(mine.firstSeen, t) : t, peers };
    });
  }

  observe(accountId: string, group: string | null, event: EnrichedEvent, shareable: ShareableValue[]): void {
    const t = event.occurredAt;
    for (const { indexKind, value } of shareable) {
      const users = this.byValue(indexKind, value);
      const use = users.get(accountId);
      if (!use) {
        users.set(accountId, {
          accountId,
          group,
          kind: indexKind,
          value,
          firstSeen: t,
          lastSeen: t,
          lastEventId: event.id,
        });
        continue;
      }
      use.firstSeen = Math.min(use.firstSeen, t);
      if (t >= use.lastSeen) {
        use.lastSeen = t;
        use.lastEventId = event.id;
      }
    }
  }

  private byValue(kind: string, value: string): Map<string, PeerUse> {
    const key = `${kind}\u0000${value}`;
    let users = this.uses.get(key);
    if (!users) {
      users = new Map();
      this.uses.set(key, users);
    }
    return users;
  }
}
