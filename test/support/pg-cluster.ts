import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./server.ts";

/** The newest PostgreSQL server binaries on this machine, or null. */
export function postgresBin(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : null;
}

export interface PgCluster {
  port: number;
  url: string;
  start(): void;
  /** pg_ctl stop in the given mode: fast (sessions ended cleanly) or immediate (as a crash) */
  stop(mode: "fast" | "immediate"): void;
  /** SIGSTOP / SIGCONT to every process of the cluster: a frozen server, not a stopped one */
  freeze(): void;
  thaw(): void;
  destroy(): void;
}

/**
 * A PostgreSQL cluster of the test's own (initdb in a temporary directory, a free port, trust auth), so a
 * test may stop, crash or freeze it without touching the machine's server. PostgreSQL refuses to run as
 * root: as root, its commands run as the `postgres` user.
 */
export async function startPgCluster(): Promise<PgCluster> {
  const bin = postgresBin();
  if (!bin) throw new Error("no PostgreSQL server binaries under /usr/lib/postgresql");
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tether-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const quoted = [join(bin, cmd), ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
    execFileSync(asRoot ? "su" : "sh", asRoot ? ["postgres", "-c", quoted] : ["-c", quoted], {
      stdio: ["ignore", "ignore", "pipe"],
      cwd: dir,
    });
  };
  run("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync"]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  const start = () => run("pg_ctl", ["-D", data, "-l", join(dir, "log"), "-o", options, "-w", "start"]);
  const postmaster = () => Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  const signalAll = (signal: "STOP" | "CONT") => {
    const pid = postmaster();
    const children = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .map((l) => Number(l.trim()))
      .filter((p) => p > 0);
    for (const p of [pid, ...children]) {
      try {
        process.kill(p, `SIG${signal}`);
      } catch {
        // ended meanwhile
      }
    }
  };
  start();
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop: (mode) => run("pg_ctl", ["-D", data, "-m", mode, "-w", "stop"]),
    freeze: () => signalAll("STOP"),
    thaw: () => signalAll("CONT"),
    destroy() {
      try {
        signalAll("CONT");
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        // not running
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
