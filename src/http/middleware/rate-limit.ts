import { createHash } from "node:crypto";
import { isIPv6 } from "node:net";
import { LRUCache } from "lru-cache";
import { subnetOf } from "../../core/cidr.ts";

interface Window {
  startedAt: number;
  failures: number;
}

/**
 * Failed authentications per source address and per token presented, in fixed windows, in this process's
 * memory: with TETHER_WORKERS=N each process counts on its own, so an attacker gets up to N times the limit.
 * Bounded: the least recently failing keys are forgotten first, so a flood of distinct keys costs memory
 * no larger than `maxKeys` per kind and only ever forgets the quietest keys.
 */
export class AuthFailureLimiter {
  private readonly byAddress: LRUCache<string, Window>;
  private readonly byToken: LRUCache<string, Window>;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    maxKeys = 50_000,
  ) {
    this.byAddress = new LRUCache({ max: maxKeys });
    this.byToken = new LRUCache({ max: maxKeys });
  }

  get enabled(): boolean {
    return this.limit > 0;
  }

  /** Seconds until the caller may try again, or 0 when neither its address nor its token is blocked. */
  retryAfter(address: string | null, token: string | null, now: number): number {
    if (!this.enabled) return 0;
    let until = 0;
    for (const [map, key] of this.keys(address, token)) {
      const w = map.peek(key);
      if (w && w.failures >= this.limit && now < w.startedAt + this.windowMs)
        until = Math.max(until, w.startedAt + this.windowMs);
    }
    return until > now ? Math.ceil((until - now) / 1000) : 0;
  }

  /** Counts one failed authentication against the address and the token presented. */
  fail(address: string | null, token: string | null, now: number): void {
    if (!this.enabled) return;
    for (const [map, key] of this.keys(address, token)) {
      const w = map.get(key);
      if (!w || now >= w.startedAt + this.windowMs) map.set(key, { startedAt: now, failures: 1 });
      else w.failures += 1;
    }
  }

  private keys(address: string | null, token: string | null): Array<[LRUCache<string, Window>, string]> {
    const out: Array<[LRUCache<string, Window>, string]> = [];
    // One IPv6 host usually holds a whole /64: counting single addresses there would count nothing.
    if (address) out.push([this.byAddress, isIPv6(address) ? (subnetOf(address, 64) ?? address) : address]);
    if (token) out.push([this.byToken, token]);
    return out;
  }
}

/** What a failure is counted against for the token presented: its id when it names one, else a digest. */
export function tokenKey(secret: string, tokenId: string | null): string {
  return tokenId ?? `h:${createHash("sha256").update(secret).digest("base64url").slice(0, 22)}`;
}
