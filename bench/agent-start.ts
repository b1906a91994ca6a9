/**
 * How long the workstation agent takes to start, against bare node: scripts call it before and after every
 * action, so its start is paid each time. `status` reads the config and spool and asks a closed port.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { percentile } from "./util.ts";

const AGENT = fileURLToPath(new URL("../bin/tether-agent.js", import.meta.url));

/** Median wall time of each command, run in turns so that all of them meet the same load. */
function medians(commands: string[][], env: NodeJS.ProcessEnv, runs: number): number[] {
  const times: number[][] = commands.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [j, args] of commands.entries()) {
      const started = performance.now();
      spawnSync(process.execPath, args, { env, stdio: "ignore" });
      times[j]!.push(performance.now() - started);
    }
  }
  return times.map((t) =>
    percentile(
      t.sort((a, b) => a - b),
      0.5,
    ),
  );
}

export function agentStartFigures(runs = 10): string {
  const dir = mkdtempSync(join(tmpdir(), "tether-agent-bench-"));
  try {
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({ server: "http://127.0.0.1:9", token: "t", workspace_id: "ws" }),
    );
    const env = { ...process.env, TETHER_AGENT_CONFIG_DIR: dir };
    const [bare, version, status] = medians(
      [
        ["-e", "0"],
        [AGENT, "--version"],
        [AGENT, "status"],
      ],
      env,
      runs,
    ) as [number, number, number];
    const ms = (n: number) => `${Math.round(n)} ms`;
    return `tether-agent start (median of ${runs}): --version ${ms(version)}, status ${ms(status)}; bare node ${ms(bare)}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
