import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

/** Another live process has the embedded database open. */
export class DataDirLocked extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`${dir} is in use by another tether process (pid ${pid})`);
  }
}

export interface DataDirLock {
  release(): void;
}

const LOCK_FILE = "tether.lock";

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Makes this process the one owner of an embedded data directory: PGlite keeps its own copy of the database
 * in memory and writes it back, so a second process on the same files would silently lose or undo writes.
 * The lock file holds the owner's pid; a lock left by a process that no longer runs (kill -9, a crash) is
 * taken over.
 */
export function lockDataDir(dir: string): DataDirLock {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 2) throw err;
      let owner = Number.NaN;
      try {
        owner = Number.parseInt(readFileSync(path, "utf8"), 10);
      } catch {
        // gone meanwhile: try again
      }
      if (alive(owner)) throw new DataDirLocked(dir, owner);
      try {
        unlinkSync(path);
      } catch {
        // another process took the stale lock over first; the next attempt sees its pid
      }
    }
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      try {
        if (Number.parseInt(readFileSync(path, "utf8"), 10) === process.pid) unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}
