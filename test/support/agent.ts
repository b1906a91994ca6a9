import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expectOk, TetherClient } from "../../agents/node/client.ts";
import { uid } from "./factories.ts";

export const AGENT_BIN = fileURLToPath(new URL("../../bin/tether-agent.js", import.meta.url));

export interface AgentRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A simulated machine: its identity files live in a temp dir, so tests never read this host's. */
export interface Machine {
  env: Record<string, string>;
  machineId: string;
  hostname: string;
  macs: string[];
}

export async function simulatedMachine(name = uid("host-")): Promise<Machine> {
  const { mkdir, writeFile, symlink } = await import("node:fs/promises");
  const root = await mkdtemp(join(tmpdir(), "tether-machine-"));
  const machineId = uid("mid").padEnd(32, "0");
  await writeFile(join(root, "machine-id"), `${machineId}\n`);
  const macs = [`02:42:${uid().slice(0, 2)}:00:00:01`, `0a:${uid().slice(0, 2)}:00:11:22:33`];
  const net = join(root, "net");
  await mkdir(join(root, "devices", "pci", "eth0"), { recursive: true });
  await mkdir(join(root, "devices", "pci", "wlan0"), { recursive: true });
  await mkdir(join(root, "devices", "virtual", "net", "lo"), { recursive: true });
  await writeFile(join(root, "devices", "pci", "eth0", "address"), `${macs[0]!.toUpperCase()}\n`);
  await writeFile(join(root, "devices", "pci", "wlan0", "address"), `${macs[1]}\n`);
  await writeFile(join(root, "devices", "virtual", "net", "lo", "address"), "00:00:00:00:00:00\n");
  await mkdir(net);
  await symlink(join(root, "devices", "pci", "eth0"), join(net, "eth0"));
  await symlink(join(root, "devices", "pci", "wlan0"), join(net, "wlan0"));
  await symlink(join(root, "devices", "virtual", "net", "lo"), join(net, "lo"));
  const hostname = name.toUpperCase();
  return {
    machineId,
    hostname,
    macs,
    env: {
      TETHER_AGENT_MACHINE_ID_FILE: join(root, "machine-id"),
      TETHER_AGENT_HOSTNAME: hostname,
      TETHER_AGENT_SYS_NET: net,
    },
  };
}

/** Runs the real `tether-agent` bin as its own process. */
export function runAgent(
  args: string[],
  env: Record<string, string>,
  options: { onSpawn?: (pid: number) => void } = {},
): Promise<AgentRun> {
  const child = spawn(process.execPath, [AGENT_BIN, ...args], {
    env: { ...process.env, LANG: "en_US.UTF-8", TZ: "America/Los_Angeles", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid) options.onSpawn?.(child.pid);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => {
    stdout += c;
  });
  child.stderr.on("data", (c) => {
    stderr += c;
  });
  return new Promise((done, fail) => {
    child.once("error", fail);
    child.once("close", (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

/** A workspace's account bound to a fresh environment, and that environment's agent token. */
export async function boundAccount(base: string, admin: string, platform = "tiktok_shop") {
  const api = new TetherClient({ base, token: admin });
  const ref = uid("store-");
  const account = expectOk(
    await api.post<{ id: string }>("/v1/accounts", { platform, ref }),
    "create account",
  );
  const env = expectOk(
    await api.post<{ token: string }>("/v1/environments", { name: uid("vm-"), account_ids: [account.id] }),
    "create environment",
  );
  return { platform, ref, id: account.id, token: env.token, account: `${platform}:${ref}` };
}

/** The events the server stored for one account (every page). */
export async function storedEvents(
  base: string,
  admin: string,
  accountId: string,
): Promise<Array<{ id: string }>> {
  const api = new TetherClient({ base, token: admin });
  const out: Array<{ id: string }> = [];
  let cursor: string | null = null;
  do {
    const page: { events: Array<{ id: string }>; next_cursor: string | null } = expectOk(
      await api.get(
        `/v1/accounts/${accountId}/events?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      ),
      "list events",
    );
    out.push(...page.events);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

export interface Captured {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A pass-through in front of the real server that records every request it relays and can act on an
 * ingest answer (hold it back, kill the agent) before handing it on.
 */
export function relay(
  target: string,
  onIngest: (answer: { status: number; body: string }) => Promise<void> | void = () => {},
): Server & { captured: Captured[] } {
  const url = new URL(target);
  const captured: Captured[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      captured.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: body.toString(),
      });
      const upstream = request(
        { host: url.hostname, port: url.port, path: req.url, method: req.method, headers: req.headers },
        (up) => {
          const answer: Buffer[] = [];
          up.on("data", (c: Buffer) => answer.push(c));
          up.on("end", async () => {
            const text = Buffer.concat(answer).toString();
            if (req.url === "/v1/events") await onIngest({ status: up.statusCode ?? 0, body: text });
            if (res.destroyed) return;
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(text);
          });
        },
      );
      upstream.on("error", () => res.destroy());
      upstream.end(body);
    });
  });
  return Object.assign(server, { captured });
}

/** Listens on a free port of 127.0.0.1 and answers its base URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** Rewrites one field of an agent's config file (a moved server, a test's relay). */
export async function setConfig(dir: string, patch: Record<string, unknown>): Promise<void> {
  const { readFile, writeFile } = await import("node:fs/promises");
  const path = join(dir, "config.json");
  await writeFile(path, JSON.stringify({ ...JSON.parse(await readFile(path, "utf8")), ...patch }), {
    mode: 0o600,
  });
}

/** A machine, a config dir and an initialised agent for a fresh account bound to its own environment. */
export async function initAgent(serverUrl: string, admin: string, token?: string) {
  const target = await boundAccount(serverUrl, admin);
  const machine = await simulatedMachine();
  const dir = await mkdtemp(join(tmpdir(), "tether-agent-cfg-"));
  const env = { ...machine.env, TETHER_AGENT_CONFIG_DIR: dir };
  const init = await runAgent(["init", "--server", serverUrl, "--token", token ?? target.token], env);
  if (init.code !== 0) throw new Error(`tether-agent init failed: ${init.stderr}`);
  return { target, machine, dir, env };
}
