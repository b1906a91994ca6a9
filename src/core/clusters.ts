/** A cross-group use of one value by two accounts, with whether a person allowed it. */
export interface LinkRow {
  kind: "device" | "ip" | "subnet";
  value: string;
  accountA: string;
  accountB: string;
  groupA: string | null;
  groupB: string | null;
  firstSeenAt: number;
  lastSeenAt: number;
  count: number;
  firstEventId: string;
  lastEventId: string;
  allowed: boolean;
}

export interface Cluster {
  account_ids: string[];
  groups: Array<string | null>;
  kinds: string[];
  links: number;
}

/**
 * Connected components over risky links: how far one slip's contamination reaches. Allowed (trusted) links
 * do not connect; a component counts when it spans two isolation groups or more (each null group is its own).
 */
export function clusters(links: LinkRow[]): Cluster[] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root)!;
    let node = x;
    while (node !== root) {
      const next = parent.get(node)!;
      parent.set(node, root);
      node = next;
    }
    return root;
  };
  const groupOf = new Map<string, string | null>();
  const active = links.filter((l) => !l.allowed);
  for (const l of active) {
    for (const [id, group] of [
      [l.accountA, l.groupA],
      [l.accountB, l.groupB],
    ] as const) {
      if (!parent.has(id)) parent.set(id, id);
      groupOf.set(id, group);
    }
    const [ra, rb] = [find(l.accountA), find(l.accountB)];
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);
  }
  const byRoot = new Map<string, { accounts: Set<string>; kinds: Set<string>; links: number }>();
  for (const l of active) {
    const root = find(l.accountA);
    const c = byRoot.get(root) ?? { accounts: new Set(), kinds: new Set(), links: 0 };
    c.accounts.add(l.accountA).add(l.accountB);
    c.kinds.add(l.kind);
    c.links += 1;
    byRoot.set(root, c);
  }
  const out: Cluster[] = [];
  for (const c of byRoot.values()) {
    const accountIds = [...c.accounts].sort();
    const isolation = new Set(accountIds.map((id) => groupOf.get(id) ?? `\u0000${id}`));
    if (isolation.size < 2) continue;
    const groups = [...new Set(accountIds.map((id) => groupOf.get(id) ?? null))].sort((a, b) =>
      a === null ? 1 : b === null ? -1 : a < b ? -1 : 1,
    );
    out.push({ account_ids: accountIds, groups, kinds: [...c.kinds].sort(), links: c.links });
  }
  return out.sort(
    (a, b) => b.account_ids.length - a.account_ids.length || (a.account_ids[0]! < b.account_ids[0]! ? -1 : 1),
  );
}
