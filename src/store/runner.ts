import type { PGlite, Transaction } from "@electric-sql/pglite";
import type { Sql } from "postgres";

/**
 * The hot path's way to the database, beside drizzle: statements whose text never changes (each set travels
 * as one jsonb parameter), prepared once per connection and sent as pipelines, so one pipeline costs one
 * round trip however many statements it holds (docs/adr/0006-group-commit.md).
 */
export interface Statement {
  /** for logs and counters */
  name: string;
  text: string;
  params: unknown[];
}

export type Row = Record<string, unknown>;

export interface Pipeline {
  /** Sends the statements back to back and waits once; results in order. */
  send(statements: Statement[]): Promise<Row[][]>;
}

export interface TxPipeline extends Pipeline {
  /** The last pipeline of the transaction: its statements, then COMMIT, in the same round trip. */
  commit(statements?: Statement[]): Promise<Row[][]>;
}

export interface RunnerObserver {
  /** called once per round trip with the statements it carried */
  roundTrip?(statements: readonly string[]): void;
}

export interface Runner extends Pipeline {
  /**
   * Runs `work` in one transaction: BEGIN travels with the first pipeline, COMMIT with `commit()` (or alone
   * when `work` returns without it). Any error rolls back.
   */
  transaction<T>(work: (tx: TxPipeline) => Promise<T>): Promise<T>;
}

const BEGIN: Statement = { name: "begin", text: "begin", params: [] };
const COMMIT: Statement = { name: "commit", text: "commit", params: [] };
/** A statement after a failed one in the same transaction fails with this; the first error is the cause. */
const IN_FAILED_TRANSACTION = "25P02";

const codeOf = (err: unknown) => (err as { code?: string } | null)?.code;

/** The first real error of a pipeline, or null. */
function firstFailure(results: PromiseSettledResult<unknown>[]): unknown {
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failures.length === 0) return null;
  return (failures.find((f) => codeOf(f.reason) !== IN_FAILED_TRANSACTION) ?? failures[0]!).reason;
}

export function postgresRunner(client: Sql, observer: RunnerObserver = {}): Runner {
  type Conn = Pick<Sql, "unsafe">;
  const send = async (conn: Conn, statements: Statement[]): Promise<Row[][]> => {
    observer.roundTrip?.(statements.map((s) => s.name));
    // Issued without awaiting in between: postgres.js writes them in one go and reads the answers in order.
    const results = await Promise.allSettled(
      statements.map((s) => conn.unsafe(s.text, s.params as never[], { prepare: true })),
    );
    const failure = firstFailure(results);
    if (failure) throw failure;
    return results.map((r) => [...(r as PromiseFulfilledResult<Row[]>).value]);
  };
  return {
    send: (statements) => send(client, statements),
    async transaction(work) {
      const conn = await client.reserve();
      const at: { state: "idle" | "open" | "done" } = { state: "idle" };
      const open = (statements: Statement[]) => (at.state === "idle" ? [BEGIN, ...statements] : statements);
      const tx: TxPipeline = {
        async send(statements) {
          const all = open(statements);
          at.state = "open";
          return (await send(conn, all)).slice(all.length - statements.length);
        },
        async commit(statements = []) {
          const all = [...open(statements), COMMIT];
          // Whatever happens now, the transaction ends with this pipeline: COMMIT of a failed one rolls back.
          at.state = "done";
          return (await send(conn, all)).slice(all.length - 1 - statements.length, all.length - 1);
        },
      };
      try {
        const result = await work(tx);
        if (at.state === "open") await tx.commit();
        return result;
      } catch (err) {
        if (at.state === "open") await conn.unsafe("rollback").catch(() => undefined);
        throw err;
      } finally {
        conn.release();
      }
    },
  };
}

/**
 * PGlite runs in-process on one connection: a "round trip" is a call into it. Its transaction() sends BEGIN
 * and COMMIT itself; they are reported with the first and last pipeline, as on PostgreSQL.
 */
export function pgliteRunner(client: PGlite, observer: RunnerObserver = {}): Runner {
  const send = async (
    conn: Pick<Transaction, "query">,
    statements: Statement[],
    names = statements.map((s) => s.name),
  ): Promise<Row[][]> => {
    observer.roundTrip?.(names);
    const out: Row[][] = [];
    for (const s of statements) out.push((await conn.query<Row>(s.text, s.params)).rows);
    return out;
  };
  return {
    send: (statements) => send(client, statements),
    transaction(work) {
      return client.transaction(async (conn) => {
        const at: { state: "idle" | "open" | "done" } = { state: "idle" };
        const names = (statements: Statement[]) => [
          ...(at.state === "idle" ? ["begin"] : []),
          ...statements.map((s) => s.name),
        ];
        const result = await work({
          async send(statements) {
            const reported = names(statements);
            at.state = "open";
            return send(conn, statements, reported);
          },
          async commit(statements = []) {
            if (at.state === "done") throw new Error("transaction already committed");
            const reported = [...names(statements), "commit"];
            at.state = "done";
            // PGlite's transaction() commits when `work` returns.
            return send(conn, statements, reported);
          },
        });
        if (at.state === "open") observer.roundTrip?.(["commit"]);
        return result;
      });
    },
  };
}
