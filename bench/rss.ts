/**
 * The server's process tree, from /proc: the resident set of its primary and of every process under it
 * (node:cluster workers, tsx's esbuild), and making sure none of them outlives the bench.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fmt, MIB, sleep } from "./util.ts";

export interface ProcessRss {
  pid: number;
  /** "primary" for the process the bench started, else the child's command line */
  role: string;
  /** the executable's name, from /proc/<pid>/comm (node, esbuild, …) */
  name: string;
  rssBytes: number;
}

function rssOf(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null; // gone
  }
}

/** From /proc/<pid>/task/<tid>/children; where the kernel lacks those files, from `ps --ppid`. */
export function childrenOf(pid: number): number[] {
  const out = new Set<number>();
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8");
      for (const child of list.split(/\s+/).filter(Boolean)) out.add(Number(child));
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT" || !existsSync(`/proc/${pid}`)) return [];
    try {
      const list = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" });
      for (const child of list.split(/\s+/).filter(Boolean)) out.add(Number(child));
    } catch {
      // no children (ps exits 1) or no ps
    }
  }
  return [...out];
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "?";
  }
}

const commandOf = (pid: number) =>
  read(`/proc/${pid}/cmdline`).split("\0").filter(Boolean).slice(1).join(" ");

/** Every process under `pid`, children first. */
export function descendantsOf(pid: number): number[] {
  return childrenOf(pid).flatMap((child) => [child, ...descendantsOf(child)]);
}

/** The primary and all its descendants, as they are now. */
export function processTreeRss(primary: number): ProcessRss[] {
  const out: ProcessRss[] = [];
  const visit = (pid: number, role: string) => {
    const rss = rssOf(pid);
    if (rss !== null) out.push({ pid, role, name: read(`/proc/${pid}/comm`).trim(), rssBytes: rss });
    for (const child of childrenOf(pid)) visit(child, `child: ${commandOf(child)}`);
  };
  visit(primary, "primary");
  return out;
}

export const maxRss = (processes: readonly ProcessRss[]) => Math.max(0, ...processes.map((p) => p.rssBytes));

export const describeRss = (processes: readonly ProcessRss[]) =>
  processes
    .map(
      (p) => `${p.role === "primary" ? "primary" : "child"} ${p.name} ${p.pid}: ${fmt(p.rssBytes / MIB)} MiB`,
    )
    .join(", ") || "no process";

/** Samples the tree every 250 ms; `take()` returns each process's peak since the last take. */
export function rssSampler(primary: number) {
  let peaks = new Map<number, ProcessRss>();
  const sample = () => {
    for (const p of processTreeRss(primary)) {
      const seen = peaks.get(p.pid);
      if (!seen || seen.rssBytes < p.rssBytes) peaks.set(p.pid, p);
    }
  };
  const timer = setInterval(sample, 250);
  timer.unref();
  return {
    take(): ProcessRss[] {
      sample();
      const out = [...peaks.values()];
      peaks = new Map();
      return out;
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * Waits up to `graceMs` for these processes to exit, then SIGKILLs, by pid, those still there (a worker
 * whose primary did not stop it). Returns the ones it had to kill.
 */
export async function reap(pids: readonly number[], graceMs: number): Promise<number[]> {
  const alive = () => pids.filter((pid) => existsSync(`/proc/${pid}`) && !isZombie(pid));
  const deadline = Date.now() + graceMs;
  while (alive().length > 0 && Date.now() < deadline) await sleep(100);
  const left = alive();
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  return left;
}

const isZombie = (pid: number) => /^State:\s+Z/m.test(read(`/proc/${pid}/status`));
