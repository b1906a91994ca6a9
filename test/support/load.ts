import type { EventBody } from "../../src/http/events/schemas.ts";
import { event, LA, uid } from "./factories.ts";

/** One HTTP exchange of a load client: its answer, or the network error in its place. */
export interface Exchange {
  at: number;
  status: number | null;
  retryAfter: string | null;
  error: string | null;
  ids: string[];
}

export interface Load {
  exchanges: Exchange[];
  /** ids answered 202 */
  acknowledged: Set<string>;
  /** ids of batches that failed at least once (503 or a network error) before a 202 */
  retried: Set<string>;
  /** every id a client tried to send */
  sent: Set<string>;
  /** stop making new batches; resolves once every client's last batch is answered 202 */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `clients` agents, each posting batches of `batchSize` new events in a loop. A batch that is not answered
 * 202 (a 503, or no answer at all) is sent again, unchanged, after `retryMs`, as an agent does; the next
 * batch waits until it is. `base()` is read before every request, so a test may move the server.
 */
export function startLoad(options: {
  base: () => string;
  token: string;
  clients: number;
  batchSize: number;
  retryMs?: number;
}): Load {
  const load = {
    exchanges: [] as Exchange[],
    acknowledged: new Set<string>(),
    retried: new Set<string>(),
    sent: new Set<string>(),
  };
  let stopping = false;
  const ref = uid("load-");
  const client = async (k: number) => {
    let n = 0;
    while (!stopping) {
      const batch: EventBody[] = Array.from({ length: options.batchSize }, () =>
        event(Date.now() - 60_000, {
          ref: `${ref}-${k}-${n++ % 5}`,
          env: { ...LA, ip: "10.1.2.3", device_id: `dev-${k}` },
        }),
      );
      const ids = batch.map((e) => e.id);
      for (const id of ids) load.sent.add(id);
      for (;;) {
        const x: Exchange = { at: Date.now(), status: null, retryAfter: null, error: null, ids };
        try {
          const res = await fetch(`${options.base()}/v1/events`, {
            method: "POST",
            headers: { authorization: `Bearer ${options.token}`, "content-type": "application/json" },
            body: JSON.stringify({ events: batch }),
            signal: AbortSignal.timeout(60_000),
          });
          await res.arrayBuffer();
          x.status = res.status;
          x.retryAfter = res.headers.get("retry-after");
        } catch (err) {
          const e = err as Error & { cause?: { code?: string; message?: string } };
          x.error = e.cause?.code ?? e.cause?.message ?? e.message;
        }
        x.at = Date.now();
        load.exchanges.push(x);
        if (x.status === 202) {
          for (const id of ids) load.acknowledged.add(id);
          break;
        }
        for (const id of ids) load.retried.add(id);
        await sleep(options.retryMs ?? 200);
      }
    }
  };
  const running = Promise.all(Array.from({ length: options.clients }, (_, k) => client(k)));
  return {
    ...load,
    async stop() {
      stopping = true;
      await running;
    },
  };
}

/** Resolves once `test` holds, checking every 50 ms; rejects after `ms` with `what`. */
export async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
