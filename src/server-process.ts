import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../bin/tether.js", import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  /** the last lines the server wrote, for error messages */
  tail: string[];
  /** everything the server wrote */
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL if it does not stop in time; resolves with the exit code */
  stop(): Promise<number | null>;
}

export class ServerStartError extends Error {}

/**
 * Runs `tether serve` as its own process on 127.0.0.1:`port` and waits until /readyz answers 200: what the
 * demo, the bench and the end-to-end tests run, exactly as a user would. `env` replaces nothing it omits but
 * DATABASE_URL, which is cleared unless given (a stray one must not redirect a demo or a test).
 */
export async function startServerProcess(options: {
  port: number;
  env: Record<string, string>;
  readyTimeoutMs?: number;
  /** where the server's output goes as it arrives (the demo forwards it to stderr) */
  onOutput?: (chunk: Buffer) => void;
}): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: "", ...options.env };
  env.PORT = String(options.port);
  env.HOST = "127.0.0.1";
  const child = spawn(process.execPath, [BIN, "serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let all = "";
  const tail: string[] = [];
  const collect = (chunk: Buffer) => {
    all += chunk;
    options.onOutput?.(chunk);
    tail.push(...chunk.toString().split("\n").filter(Boolean));
    tail.splice(0, Math.max(0, tail.length - 20));
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const server: ServerProcess = {
    child,
    base: `http://127.0.0.1:${options.port}`,
    tail,
    output: () => all,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const killed = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const code = await exited;
      clearTimeout(killed);
      return code;
    },
  };
  const timeout = options.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (gone) throw new ServerStartError(`the server exited while starting:\n  ${tail.join("\n  ")}`);
    const ready = await fetch(`${server.base}/readyz`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return server;
    await new Promise((r) => setTimeout(r, 200));
  }
  await server.stop();
  throw new ServerStartError(`the server was not ready within ${timeout / 1000} s:\n  ${tail.join("\n  ")}`);
}
