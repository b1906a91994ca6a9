import { LRUCache } from "lru-cache";
import type { Enricher, NetInfo, UaInfo } from "./enrich/types.ts";
import type { EnrichedEvent, EventInput } from "./model.ts";

export const MAX_FUTURE_MS = 5 * 60_000;
const DAY = 86_400_000;
const MAX_USER_AGENT = 1024;

/** A field of an input that cannot be judged, by its path (`events.3.occurred_at`). */
export interface InputProblem {
  path: string;
  message: string;
}

/** What a schema cannot judge alone: timestamps too far ahead or behind, a missing account or operation. */
export function eventProblems(
  inputs: EventInput[],
  now: Date,
  maxAgeDays: number,
  pathPrefix: (i: number) => string,
): InputProblem[] {
  const problems: InputProblem[] = [];
  inputs.forEach((e, i) => {
    const at = Date.parse(e.occurred_at);
    if (at > now.getTime() + MAX_FUTURE_MS) {
      problems.push({ path: `${pathPrefix(i)}occurred_at`, message: "is more than 5 minutes in the future" });
    }
    if (at < now.getTime() - maxAgeDays * DAY) {
      problems.push({
        path: `${pathPrefix(i)}occurred_at`,
        message: `is more than ${maxAgeDays} days in the past`,
      });
    }
    if (e.type !== "heartbeat" && !e.account) {
      problems.push({ path: `${pathPrefix(i)}account`, message: `is required for ${e.type} events` });
    }
    if (e.type === "operation" && !e.operation) {
      problems.push({ path: `${pathPrefix(i)}operation`, message: "is required for operation events" });
    }
  });
  return problems;
}

/**
 * An enricher that remembers its answers: a matrix reuses a few hundred IPs and user agents all day, and
 * parsing a user agent costs more than judging the event. Bounded, least recently used first out.
 */
export function cachingEnricher(inner: Enricher, size = { ips: 50_000, userAgents: 5_000 }): Enricher {
  const nets = new LRUCache<string, NetInfo>({ max: size.ips });
  const uas = new LRUCache<string, UaInfo>({ max: size.userAgents });
  return {
    datasets: inner.datasets,
    net(ip) {
      let info = nets.get(ip);
      if (!info) {
        info = inner.net(ip);
        nets.set(ip, info);
      }
      return info;
    },
    ua(userAgent) {
      let info = uas.get(userAgent);
      if (!info) {
        info = inner.ua(userAgent);
        uas.set(userAgent, info);
      }
      return info;
    },
  };
}

/** An accepted input as the rules see it: enriched offline, times in epoch milliseconds. */
export function enrichEvent(enricher: Enricher, input: EventInput, sourceIp: string | null): EnrichedEvent {
  const env = input.env ?? {};
  const ip = env.ip ?? sourceIp;
  const userAgent = env.user_agent ? env.user_agent.slice(0, MAX_USER_AGENT) : null;
  const result = input.result ?? { status: "ok" as const };
  return {
    id: input.id,
    type: input.type,
    occurredAt: Date.parse(input.occurred_at),
    operator: input.operator ?? null,
    operation: input.operation ?? (input.type === "login" ? "login" : null),
    result: {
      status: result.status,
      code: result.code ?? (result.status === "ok" ? "ok" : null),
      httpStatus: result.http_status ?? null,
      message: result.message ?? null,
    },
    net: ip ? enricher.net(ip) : null,
    ua: userAgent ? enricher.ua(userAgent) : null,
    userAgent,
    deviceId: env.device_id ?? null,
    timezone: env.timezone ?? null,
    locale: env.locale ?? null,
    profile: env.profile ?? null,
    attributes: input.attributes ?? null,
  };
}
