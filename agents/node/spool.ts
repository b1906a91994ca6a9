/**
 * The durable spool: every event is appended to `spool/journal.ndjson` and fsynced before `report` returns;
 * a flush sends the oldest pending events in batches of at most 1000 and records the ids the server answered
 * 202 for in `spool/acked` (fsynced), and a compaction rewrites the journal without them (write a new file,
 * fsync, rename, fsync the directory), so a kill -9 at any point leaves either the old or the new journal and
 * at worst resends events the server already has, which their ids make harmless.
 *
 * Two lock files, both proper-lockfile's (mkdir + mtime, taken over when stale after a kill -9):
 * `journal.lock` for the short appends and rewrites, `flush.lock` for one flusher at a time, so a report never
 * waits on the network.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { EventBody } from "./client.ts";

export const DEFAULT_SPOOL_MAX_BYTES = 64 * 1024 * 1024;
/** A lock whose holder stopped refreshing it this long ago (kill -9) is taken over. */
const STALE_MS = 10_000;

export class SpoolFull extends Error {}

export interface SpoolStats {
  pending: number;
  oldest: string | null;
  bytes: number;
  corrupt: number;
}

export interface AppendOutcome {
  /** heartbeats dropped to make room, oldest first */
  droppedHeartbeats: number;
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Windows cannot open a directory; rename there is durable enough
  }
}

export class Spool {
  readonly dir: string;
  readonly journal: string;
  readonly ackedPath: string;
  readonly rejectedPath: string;
  readonly statePath: string;
  readonly maxBytes: number;

  constructor(configDir: string, maxBytes = DEFAULT_SPOOL_MAX_BYTES) {
    this.dir = join(configDir, "spool");
    this.journal = join(this.dir, "journal.ndjson");
    this.ackedPath = join(this.dir, "acked");
    this.rejectedPath = join(this.dir, "rejected.ndjson");
    this.statePath = join(this.dir, "state.json");
    this.maxBytes = maxBytes;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  async #lock(name: string, wait: boolean): Promise<(() => Promise<void>) | null> {
    // Loaded on first use: it (with graceful-fs) is a third of the agent's start-up, and status never locks.
    const lockfile = (await import("proper-lockfile")).default;
    try {
      return await lockfile.lock(join(this.dir, name), {
        lockfilePath: join(this.dir, `${name}.lock`),
        stale: STALE_MS,
        realpath: false,
        retries: wait ? { retries: 200, factor: 1.3, minTimeout: 20, maxTimeout: 500, randomize: true } : 0,
      });
    } catch (err) {
      if (!wait && (err as NodeJS.ErrnoException).code === "ELOCKED") return null;
      throw err;
    }
  }

  async withJournal<T>(fn: () => T): Promise<T> {
    const release = (await this.#lock("journal", true))!;
    try {
      return fn();
    } finally {
      await release();
    }
  }

  /** The flush lock, or null when another process holds it and `wait` is false. */
  lockFlush(wait: boolean): Promise<(() => Promise<void>) | null> {
    return this.#lock("flush", wait);
  }

  /** Appends one event and fsyncs it; makes room by dropping the oldest heartbeats, never anything else. */
  async append(event: EventBody): Promise<AppendOutcome> {
    const line = `${JSON.stringify(event)}\n`;
    return this.withJournal(() => {
      let dropped = 0;
      const size = existsSync(this.journal) ? statSync(this.journal).size : 0;
      if (size + Buffer.byteLength(line) > this.maxBytes) {
        const entries = this.#readJournal().entries;
        const acked = this.#readAcked();
        let kept = entries.filter((e) => !acked.has(e.id));
        let bytes = kept.reduce((n, e) => n + e.line.length + 1, 0);
        const need = Buffer.byteLength(line);
        const next: typeof kept = [];
        for (const e of kept) {
          if (bytes + need > this.maxBytes && e.event.type === "heartbeat") {
            bytes -= e.line.length + 1;
            dropped += 1;
          } else next.push(e);
        }
        kept = next;
        if (bytes + need > this.maxBytes) {
          if (event.type === "heartbeat") return { droppedHeartbeats: dropped + 1 };
          throw new SpoolFull(
            `the spool is full (${bytes} of ${this.maxBytes} bytes, no heartbeats left to drop): ` +
              "this event was NOT recorded; flush the spool (is the server reachable?) or raise spool_max_bytes",
          );
        }
        this.#rewrite(kept.map((e) => e.line));
      }
      const fd = openSync(this.journal, "a", 0o600);
      try {
        // A writer killed mid-line left a torn tail: start on a fresh line so only that one entry is lost.
        const end = fstatSync(fd).size;
        if (end > 0) {
          const last = Buffer.alloc(1);
          const rfd = openSync(this.journal, "r");
          readSync(rfd, last, 0, 1, end - 1);
          closeSync(rfd);
          if (last[0] !== 0x0a) writeSync(fd, "\n");
        }
        writeSync(fd, line);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (size === 0) fsyncDir(this.dir);
      return { droppedHeartbeats: dropped };
    });
  }

  #readJournal(): { entries: Array<{ id: string; line: string; event: EventBody }>; corrupt: number } {
    let text = "";
    try {
      text = readFileSync(this.journal, "utf8");
    } catch {
      return { entries: [], corrupt: 0 };
    }
    const entries: Array<{ id: string; line: string; event: EventBody }> = [];
    const seen = new Set<string>();
    let corrupt = 0;
    const lines = text.split("\n");
    // The last piece has no newline yet: an append in progress (or torn by a kill), not an entry.
    lines.pop();
    for (const line of lines) {
      if (!line) continue;
      try {
        const event = JSON.parse(line) as EventBody;
        if (typeof event.id !== "string") throw new Error("no id");
        if (seen.has(event.id)) continue;
        seen.add(event.id);
        entries.push({ id: event.id, line, event });
      } catch {
        corrupt += 1;
      }
    }
    return { entries, corrupt };
  }

  #readAcked(): Set<string> {
    try {
      return new Set(readFileSync(this.ackedPath, "utf8").split("\n").filter(Boolean));
    } catch {
      return new Set();
    }
  }

  #rewrite(lines: string[]): void {
    const tmp = `${this.journal}.${process.pid}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      if (lines.length) writeSync(fd, `${lines.join("\n")}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.journal);
    fsyncDir(this.dir);
  }

  /** Events not yet acknowledged, oldest first (read without the journal lock: appends only add lines). */
  pending(limit = Number.POSITIVE_INFINITY): EventBody[] {
    const acked = this.#readAcked();
    const out: EventBody[] = [];
    for (const e of this.#readJournal().entries) {
      if (acked.has(e.id)) continue;
      out.push(e.event);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Records ids the server answered 202 for; call with the flush lock held. */
  ack(ids: string[]): void {
    if (!ids.length) return;
    const fd = openSync(this.ackedPath, "a", 0o600);
    try {
      writeSync(fd, `${ids.join("\n")}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Moves events the server refused (4xx) aside, where a person can read them; call with the flush lock held. */
  reject(events: EventBody[], reason: string): void {
    const fd = openSync(this.rejectedPath, "a", 0o600);
    try {
      for (const event of events) writeSync(fd, `${JSON.stringify({ reason, event })}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.ack(events.map((e) => e.id));
  }

  /**
   * Drops acknowledged entries from the journal. The flush lock must be held (nobody acks meanwhile); the
   * journal is rewritten before the ack list is emptied, so a kill between the two leaves stale acks only.
   */
  async compact(): Promise<void> {
    await this.withJournal(() => {
      const acked = this.#readAcked();
      if (!acked.size) return;
      const { entries } = this.#readJournal();
      this.#rewrite(entries.filter((e) => !acked.has(e.id)).map((e) => e.line));
      const tmp = `${this.ackedPath}.${process.pid}.tmp`;
      writeFileSync(tmp, "", { mode: 0o600 });
      renameSync(tmp, this.ackedPath);
      fsyncDir(this.dir);
    });
  }

  stats(): SpoolStats {
    const { entries, corrupt } = this.#readJournal();
    const acked = this.#readAcked();
    const pending = entries.filter((e) => !acked.has(e.id));
    let oldest: string | null = null;
    for (const e of pending)
      if (oldest === null || e.event.occurred_at < oldest) oldest = e.event.occurred_at;
    const bytes = existsSync(this.journal) ? statSync(this.journal).size : 0;
    return { pending: pending.length, oldest, bytes, corrupt };
  }

  readState(): AgentState {
    try {
      return JSON.parse(readFileSync(this.statePath, "utf8")) as AgentState;
    } catch {
      return {};
    }
  }

  writeState(patch: Partial<AgentState>): void {
    const state = { ...this.readState(), ...patch };
    const tmp = `${this.statePath}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
    renameSync(tmp, this.statePath);
  }
}

export interface AgentState {
  last_error?: string | null;
  last_error_at?: string | null;
  last_flush_at?: string | null;
  last_sent?: number;
  /** the egress IP last seen through the configured proxy, and when */
  egress?: { proxy: string; ip: string; at: string } | null;
}
