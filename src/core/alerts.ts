/** The identity an alert is deduplicated on: same rule, same accounts, same key. */
export function alertIdentity(rule: string, accountIds: string[], key: string) {
  const sorted = [...new Set(accountIds)].sort();
  return { accountIds: sorted, dedupKey: `${rule}|${sorted.join(",")}|${key}` };
}
