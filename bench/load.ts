/**
 * The load generator: a keep-alive HTTP client to 127.0.0.1 and a closed-loop runner that keeps N requests in
 * flight until its work or its time runs out. A 429 or 503 with Retry-After is waited out and retried, read by
 * the agents' client (the server sheds load that way when its ingest queue is full); any other non-2xx answer
 * is an error. The transport stays node:http with one socket per client, so the figures measure the server
 * and not a shared connection pool.
 */
import { Agent, request } from "node:http";
import { parseRetryAfter } from "../agents/node/client.ts";
import { percentile, sleep } from "./util.ts";

/** One request of a phase: its bearer token, its JSON body and how many events it carries. */
export interface Job {
  token: string;
  body: string;
  events: number;
}

export interface Answer {
  status: number;
  text: string;
  /** set on a 429 or 503 that says when to come back */
  retryAfterMs: number | null;
}

const REQUEST_TIMEOUT_MS = 120_000;
const MAX_ATTEMPTS = 100;

/** A reset this soon after sending on a reused socket is the keep-alive race, not the server's answer. */
const STALE_SOCKET_MS = 1_000;

class StaleSocket extends Error {}

export class Api {
  readonly #agent: Agent;
  readonly #url: URL;
  /** requests sent again because the server had closed their idle keep-alive socket as they went out */
  resent = 0;

  constructor(base: string, sockets: number) {
    this.#url = new URL(base);
    if (this.#url.hostname !== "127.0.0.1") throw new Error(`the bench only talks to 127.0.0.1, not ${base}`);
    this.#agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  async request(method: string, path: string, token: string, body?: string): Promise<Answer> {
    try {
      return await this.#send(method, path, token, body);
    } catch (err) {
      // Node's documented race: a reused idle socket the server closes (keepAliveTimeout) as the request leaves.
      if (!(err instanceof StaleSocket)) throw err;
      this.resent += 1;
      return this.#send(method, path, token, body);
    }
  }

  #send(method: string, path: string, token: string, body?: string): Promise<Answer> {
    const started = performance.now();
    return new Promise((done, fail) => {
      const req = request(
        {
          agent: this.#agent,
          host: this.#url.hostname,
          port: this.#url.port,
          method,
          path,
          timeout: REQUEST_TIMEOUT_MS,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined
              ? {}
              : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", fail);
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            const retryAfter = res.headers["retry-after"];
            done({
              status,
              text: Buffer.concat(chunks).toString("utf8"),
              retryAfterMs:
                status === 503 || status === 429 ? parseRetryAfter(retryAfter as string | undefined) : null,
            });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (req.reusedSocket && err.code === "ECONNRESET" && performance.now() - started < STALE_SOCKET_MS) {
          return fail(new StaleSocket(err.message));
        }
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        fail(
          new Error(
            `${err.message} after ${seconds} s${req.reusedSocket ? " on a reused keep-alive socket" : ""}`,
          ),
        );
      });
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

export interface PhaseStats {
  name: string;
  clients: number;
  /** requests answered (after any 503 retries) */
  requests: number;
  /** events of the requests answered 2xx */
  events: number;
  /** what the server said it did with them, summed over the 2xx answers that say so */
  accepted: number;
  duplicates: number;
  /** 503 + Retry-After answers that were waited out and retried */
  retries: number;
  /** requests sent again after the keep-alive race (see Api.request) */
  resent: number;
  errors: number;
  firstError: string | null;
  /** stopped issuing requests at its time limit before its work ran out */
  cut: boolean;
  limitSeconds: number;
  seconds: number;
  eventsPerSecond: number;
  /** request latency from first attempt to final answer, 503 waits included */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** [seconds since start, events accepted so far] at each 2xx answer */
  timeline: Array<[number, number]>;
}

/**
 * Runs `clients` closed loops over the jobs `next()` hands out. No new request starts after `limitMs`; a
 * request in flight then still gets its answer (bounded by the request timeout), and 503 retries stop
 * once the limit is passed by another `limitMs / 4`.
 */
export async function runPhase(
  api: Api,
  name: string,
  options: {
    clients: number;
    limitMs: number;
    next: () => Job | null;
    onAnswer?: (stats: PhaseStats) => void;
  },
): Promise<PhaseStats> {
  const stats: PhaseStats = {
    name,
    clients: options.clients,
    requests: 0,
    events: 0,
    accepted: 0,
    duplicates: 0,
    retries: 0,
    resent: 0,
    errors: 0,
    firstError: null,
    cut: false,
    limitSeconds: options.limitMs / 1000,
    seconds: 0,
    eventsPerSecond: 0,
    p50Ms: 0,
    p99Ms: 0,
    maxMs: 0,
    timeline: [],
  };
  const latencies: number[] = [];
  const resentBefore = api.resent;
  const started = performance.now();
  const deadline = started + options.limitMs;
  const retryDeadline = deadline + options.limitMs / 4;
  const fail = (message: string) => {
    stats.errors += 1;
    stats.firstError ??= message;
  };

  const send = async (job: Job) => {
    const sent = performance.now();
    for (let attempt = 1; ; attempt += 1) {
      let answer: Answer;
      try {
        answer = await api.request("POST", "/v1/events", job.token, job.body);
      } catch (err) {
        return fail(`request failed: ${(err as Error).message}`);
      }
      const { status, text, retryAfterMs } = answer;
      if ((status === 503 || status === 429) && retryAfterMs !== null) {
        if (attempt < MAX_ATTEMPTS && performance.now() + retryAfterMs < retryDeadline) {
          stats.retries += 1;
          await sleep(retryAfterMs);
          continue;
        }
        return fail(`503 after ${attempt} attempts (gave up): ${text.slice(0, 300)}`);
      }
      const ms = performance.now() - sent;
      stats.requests += 1;
      latencies.push(ms);
      if (status < 200 || status > 299) return fail(`${status} ${text.slice(0, 300)}`);
      stats.events += job.events;
      const counts = readCounts(text);
      stats.accepted += counts?.accepted ?? 0;
      stats.duplicates += counts?.duplicates ?? 0;
      stats.timeline.push([(performance.now() - started) / 1000, stats.events]);
      options.onAnswer?.(stats);
      return;
    }
  };

  const client = async () => {
    while (true) {
      if (performance.now() >= deadline) {
        stats.cut = true;
        return;
      }
      const job = options.next();
      if (!job) return;
      await send(job);
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  // A job may have been left unsent exactly at the limit: cut means "there was work left".
  if (stats.cut) {
    const left = options.next();
    stats.cut = left !== null;
  }

  stats.resent = api.resent - resentBefore;
  stats.seconds = (performance.now() - started) / 1000;
  stats.eventsPerSecond = stats.events / stats.seconds;
  latencies.sort((a, b) => a - b);
  stats.p50Ms = percentile(latencies, 0.5);
  stats.p99Ms = percentile(latencies, 0.99);
  stats.maxMs = latencies.at(-1) ?? 0;
  return stats;
}

function readCounts(text: string): { accepted: number; duplicates: number } | null {
  try {
    const body = JSON.parse(text) as { accepted?: unknown; duplicates?: unknown };
    return {
      accepted: typeof body.accepted === "number" ? body.accepted : 0,
      duplicates: typeof body.duplicates === "number" ? body.duplicates : 0,
    };
  } catch {
    return null;
  }
}

/** A queue over a fixed list of jobs. */
export function jobsOf(jobs: Job[]): () => Job | null {
  let next = 0;
  return () => jobs[next++] ?? null;
}
