import { isDatabaseUnavailable } from "../errors.ts";
import type { BatchOutcome, BatchRequest } from "./ingest-events.ts";

/** The queue is full: the caller should retry after `retryAfterSeconds`. */
export class IngestOverloaded extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`ingest queue is full; retry in ${retryAfterSeconds} s`);
  }
}

export interface PipelineLimits {
  /** events per transaction: a group takes whatever is waiting, up to this many (at least one request) */
  maxGroupEvents: number;
  /** events waiting at most; past that, requests are refused with a retry hint instead of growing memory */
  maxQueuedEvents: number;
}

export interface PipelineObserver {
  group?(requests: number, events: number): void;
  queued?(events: number): void;
  rejected?(): void;
  committed?(seconds: number): void;
}

interface Pending {
  request: BatchRequest;
  resolve(outcome: BatchOutcome): void;
  reject(err: unknown): void;
}

const eventsOf = (p: Pending) => p.request.events.length;

/**
 * Group commit: one ingest pipeline per process. Requests that arrive while a transaction runs wait, and the
 * next transaction takes all of them (up to `maxGroupEvents`), so concurrent agents share one transaction's
 * round trips; each request is answered with its own verdicts after the commit. Groups run one at a time, in
 * arrival order, so the events of one account are judged in the order they were received.
 */
export class IngestPipeline {
  private readonly queue: Pending[] = [];
  private queuedEvents = 0;
  private running: Promise<void> | null = null;
  /** events per second of recent groups, for the retry hint */
  private rate = 1_000;

  constructor(
    private readonly commit: (requests: BatchRequest[]) => Promise<BatchOutcome[]>,
    private readonly limits: PipelineLimits,
    private readonly observer: PipelineObserver = {},
  ) {}

  /** events waiting for the next transaction */
  get queued(): number {
    return this.queuedEvents;
  }

  submit(request: BatchRequest): Promise<BatchOutcome> {
    const n = request.events.length;
    if (this.queue.length > 0 && this.queuedEvents + n > this.limits.maxQueuedEvents) {
      this.observer.rejected?.();
      throw new IngestOverloaded(Math.max(1, Math.ceil(this.queuedEvents / this.rate)));
    }
    return new Promise<BatchOutcome>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.queuedEvents += n;
      this.observer.queued?.(this.queuedEvents);
      this.running ??= this.drain().finally(() => {
        this.running = null;
      });
    });
  }

  /** Resolves when everything submitted so far has been answered. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      // Let the requests that have arrived meanwhile be read and queued first: an in-process database
      // (PGlite) answers through microtasks alone, so without this turn every group would hold one request.
      await new Promise((resolve) => setImmediate(resolve));
      const group = this.takeGroup();
      const events = group.reduce((n, p) => n + eventsOf(p), 0);
      this.queuedEvents -= events;
      this.observer.queued?.(this.queuedEvents);
      this.observer.group?.(group.length, events);
      const started = performance.now();
      try {
        const outcomes = await this.commit(group.map((p) => p.request));
        for (const [i, p] of group.entries()) p.resolve(outcomes[i]!);
      } catch (err) {
        await this.isolate(group, err);
      }
      const took = (performance.now() - started) / 1000;
      this.observer.committed?.(took);
      const seconds = Math.max(0.001, took);
      this.rate = 0.8 * this.rate + 0.2 * Math.max(1, events / seconds);
    }
  }

  private takeGroup(): Pending[] {
    const group = [this.queue.shift()!];
    let events = eventsOf(group[0]!);
    while (this.queue.length > 0 && events + eventsOf(this.queue[0]!) <= this.limits.maxGroupEvents) {
      const next = this.queue.shift()!;
      events += eventsOf(next);
      group.push(next);
    }
    return group;
  }

  /**
   * One request's failure must not fail the others that shared its transaction: retry each alone. A database
   * that is away fails them all alike, and retrying one by one would only hold the pipeline longer.
   */
  private async isolate(group: Pending[], err: unknown): Promise<void> {
    if (group.length === 1 || isDatabaseUnavailable(err)) {
      for (const p of group) p.reject(err);
      return;
    }
    for (const p of group) {
      try {
        const [outcome] = await this.commit([p.request]);
        p.resolve(outcome!);
      } catch (alone) {
        p.reject(alone);
      }
    }
  }
}
