import { describe, expect, it } from "vitest";
import type { PreparedEvent } from "../../src/core/judge.ts";
import type { BatchOutcome, BatchRequest } from "../../src/services/ingest-events.ts";
import { IngestOverloaded, IngestPipeline } from "../../src/services/ingest-pipeline.ts";

/** A request of `n` events, named so the test can follow it through the groups. */
const request = (name: string, n = 1): BatchRequest => ({
  caller: { workspaceId: "ws", environmentId: null, tokenId: null, name },
  settings: {} as BatchRequest["settings"],
  events: Array.from({ length: n }, () => ({}) as PreparedEvent),
});

const answer = (r: BatchRequest): BatchOutcome => ({ accepted: r.events.length, duplicates: 0, results: [] });

/** A commit the test releases by hand: it records each group and resolves when told. */
function manualCommit() {
  const groups: Array<{ names: string[]; release(err?: Error): void }> = [];
  const commit = (requests: BatchRequest[]) =>
    new Promise<BatchOutcome[]>((resolve, reject) => {
      groups.push({
        names: requests.map((r) => r.caller.name),
        release: (err) => (err ? reject(err) : resolve(requests.map(answer))),
      });
    });
  return { groups, commit };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("the ingest pipeline (group commit)", () => {
  it("coalesces the requests that wait while a transaction runs into the next one, in arrival order", async () => {
    const { groups, commit } = manualCommit();
    const pipeline = new IngestPipeline(commit, { maxGroupEvents: 1000, maxQueuedEvents: 10_000 });
    const first = pipeline.submit(request("a"));
    await tick();
    const rest = ["b", "c", "d", "e"].map((n) => pipeline.submit(request(n)));
    await tick();
    expect(groups.map((g) => g.names)).toEqual([["a"]]);
    groups[0]!.release();
    await first;
    await tick();
    expect(groups.map((g) => g.names)).toEqual([["a"], ["b", "c", "d", "e"]]);
    groups[1]!.release();
    expect((await Promise.all(rest)).map((o) => o.accepted)).toEqual([1, 1, 1, 1]);
  });

  it("caps a group at maxGroupEvents and always takes at least one request", async () => {
    const { groups, commit } = manualCommit();
    const pipeline = new IngestPipeline(commit, { maxGroupEvents: 1000, maxQueuedEvents: 100_000 });
    const all = [pipeline.submit(request("busy"))];
    await tick();
    all.push(
      pipeline.submit(request("x", 600)),
      pipeline.submit(request("y", 600)),
      pipeline.submit(request("z", 300)),
    );
    for (let i = 0; i < 4; i++) {
      groups.at(-1)!.release();
      await tick();
      await tick();
    }
    await Promise.all(all);
    expect(groups.map((g) => g.names)).toEqual([["busy"], ["x"], ["y", "z"]]);
  });

  it("refuses a request with a retry hint when the queue is full, and stores none of it", async () => {
    const { groups, commit } = manualCommit();
    const pipeline = new IngestPipeline(commit, { maxGroupEvents: 1000, maxQueuedEvents: 1000 });
    const running = pipeline.submit(request("running"));
    await tick();
    const waiting = pipeline.submit(request("waiting", 900));
    expect(() => pipeline.submit(request("too-many", 200))).toThrow(IngestOverloaded);
    try {
      pipeline.submit(request("too-many", 200));
    } catch (err) {
      expect((err as IngestOverloaded).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    }
    groups[0]!.release();
    await running;
    await tick();
    groups[1]!.release();
    await waiting;
    expect(groups.flatMap((g) => g.names)).toEqual(["running", "waiting"]);
  });

  it("retries each request of a failed group alone, so one bad request fails only itself", async () => {
    const seen: string[][] = [];
    const pipeline = new IngestPipeline(
      async (requests) => {
        seen.push(requests.map((r) => r.caller.name));
        if (requests.some((r) => r.caller.name === "bad")) throw new Error("bad request");
        return requests.map(answer);
      },
      { maxGroupEvents: 1000, maxQueuedEvents: 10_000 },
    );
    const results = Promise.allSettled(["ok1", "bad", "ok2"].map((n) => pipeline.submit(request(n))));
    const [ok1, bad, ok2] = await results;
    expect(ok1!.status).toBe("fulfilled");
    expect(bad!.status).toBe("rejected");
    expect(ok2!.status).toBe("fulfilled");
    expect(seen).toEqual([["ok1", "bad", "ok2"], ["ok1"], ["bad"], ["ok2"]]);
  });
});
