import { mkdtemp, rm } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deviceId, machineIdentity } from "../../agents/node/device.ts";
import { initAgent, listen, runAgent, simulatedMachine, storedEvents } from "../support/agent.ts";
import { uid } from "../support/factories.ts";
import { scratchPostgres, startServerProcess } from "../support/server.ts";

const ADMIN = `e2e-admin-${uid()}`;
const SLOW = 180_000;

function tunnel(client: Socket, host: string, port: number, onOpen: () => void, head?: Buffer) {
  const up = connect(port, host, () => {
    onOpen();
    if (head?.length) up.write(head);
    up.pipe(client);
    client.pipe(up);
  });
  up.on("error", () => client.destroy());
  client.on("error", () => up.destroy());
}

/** An HTTP proxy that only tunnels (CONNECT), recording each target. */
function connectProxy(): Server & { targets: string[] } {
  const targets: string[] = [];
  const proxy = createHttpServer((_req, res) => res.writeHead(405).end());
  proxy.on("connect", (req, client: Socket, head: Buffer) => {
    targets.push(req.url ?? "");
    const [host, port] = (req.url ?? "").split(":");
    tunnel(
      client,
      host!,
      Number(port),
      () => client.write("HTTP/1.1 200 Connection Established\r\n\r\n"),
      head,
    );
  });
  return Object.assign(proxy, { targets });
}

/** A SOCKS5 server (no authentication, CONNECT to IPv4 or a name), recording each target. */
function socks5Proxy(): NetServer & { targets: string[] } {
  const targets: string[] = [];
  const server = createNetServer((client) => {
    client.once("data", () => {
      client.write(Buffer.from([5, 0]));
      client.once("data", (req: Buffer) => {
        let host: string;
        let at: number;
        if (req[3] === 1) {
          host = [...req.subarray(4, 8)].join(".");
          at = 8;
        } else if (req[3] === 3) {
          host = req.subarray(5, 5 + req[4]!).toString();
          at = 5 + req[4]!;
        } else return client.destroy();
        const port = req.readUInt16BE(at);
        targets.push(`${host}:${port}`);
        tunnel(client, host, port, () => client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0])));
      });
    });
    client.on("error", () => {});
  });
  return Object.assign(server, { targets });
}

describe("tether-agent on the network", () => {
  let dataDir: string;
  let pg: Awaited<ReturnType<typeof scratchPostgres>>;
  let server: Awaited<ReturnType<typeof startServerProcess>>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "tether-agent-e2e-"));
    pg = await scratchPostgres();
    server = await startServerProcess({
      TETHER_DATA_DIR: dataDir,
      TETHER_BOOTSTRAP_TOKEN: ADMIN,
      ...(pg ? { DATABASE_URL: pg.url } : {}),
    });
  }, SLOW);
  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
    await pg?.drop();
  });

  it(
    "asks for its egress IP through the account's HTTP or SOCKS5 proxy",
    async () => {
      const agent = await initAgent(server.url, ADMIN);
      const serverHostPort = new URL(server.url).host;
      const http = connectProxy();
      const socks = socks5Proxy();
      const httpUrl = await listen(http);
      await new Promise<void>((r) => socks.listen(0, "127.0.0.1", r));
      const socksUrl = `socks5://127.0.0.1:${(socks.address() as { port: number }).port}`;
      try {
        for (const [proxy, seen] of [
          [httpUrl, http.targets],
          [socksUrl, socks.targets],
        ] as const) {
          const run = await runAgent(["whoami", "--json", "--proxy", proxy], agent.env);
          expect(run.code, run.stderr).toBe(0);
          const out = JSON.parse(run.stdout);
          expect(out.proxy).toBe(proxy);
          expect(out.whoami.source_ip).toBe("127.0.0.1");
          expect(out.env.ip).toBe("127.0.0.1");
          expect(seen).toContain(serverHostPort);
        }
        const before = http.targets.length + socks.targets.length;
        const direct = await runAgent(["whoami", "--json"], agent.env);
        expect(JSON.parse(direct.stdout).proxy).toBeNull();
        expect(http.targets.length + socks.targets.length).toBe(before);
      } finally {
        await new Promise((r) => http.close(r));
        await new Promise((r) => socks.close(r));
      }
    },
    SLOW,
  );

  it(
    "keeps one device id across runs and hashes a second machine to another",
    async () => {
      const agent = await initAgent(server.url, ADMIN);
      const first = JSON.parse((await runAgent(["whoami", "--json"], agent.env)).stdout);
      const again = JSON.parse((await runAgent(["whoami", "--json"], agent.env)).stdout);
      expect(first.env.device_id).toMatch(/^dev_[0-9a-f]{32}$/);
      expect(again.env.device_id).toBe(first.env.device_id);
      expect(first.env.device_id).toBe(
        deviceId(first.whoami.workspace.id, machineIdentity(agent.machine.env)),
      );
      const other = await simulatedMachine();
      const elsewhere = JSON.parse(
        (await runAgent(["whoami", "--json"], { ...agent.env, ...other.env })).stdout,
      );
      expect(elsewhere.env.device_id).not.toBe(first.env.device_id);
    },
    SLOW,
  );
});

describe("tether-agent heartbeat", () => {
  it(
    "beats every interval until it is stopped, and each beat reaches the server",
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "tether-agent-e2e-"));
      const pg = await scratchPostgres();
      const server = await startServerProcess({
        TETHER_DATA_DIR: dataDir,
        TETHER_BOOTSTRAP_TOKEN: ADMIN,
        ...(pg ? { DATABASE_URL: pg.url } : {}),
      });
      try {
        const agent = await initAgent(server.url, ADMIN);
        let pid = 0;
        const running = runAgent(
          ["heartbeat", "--every", "300ms", "--account", agent.target.account],
          agent.env,
          {
            onSpawn: (p) => (pid = p),
          },
        );
        const deadline = Date.now() + 120_000;
        while ((await storedEvents(server.url, ADMIN, agent.target.id)).length < 3) {
          if (Date.now() > deadline) throw new Error("fewer than 3 heartbeats within 120 s");
          await new Promise((r) => setTimeout(r, 200));
        }
        process.kill(pid, "SIGTERM");
        const done = await running;
        expect(done.code, done.stderr).toBe(0);
        const beats = await storedEvents(server.url, ADMIN, agent.target.id);
        expect(beats.every((e) => (e as { type?: string }).type === "heartbeat")).toBe(true);
      } finally {
        await server.stop();
        await rm(dataDir, { recursive: true, force: true });
        await pg?.drop();
      }
    },
    SLOW,
  );
});

describe("tether-agent against a server that sheds load", () => {
  it(
    "waits out 429 and 503 for as long as Retry-After says, then delivers once",
    async () => {
      const answers = [
        { status: 503, retryAfter: "1" },
        { status: 429, retryAfter: "2" },
        { status: 503, retryAfter: "1" },
      ];
      const ingests: Array<{ at: number; ids: string[] }> = [];
      const fake = createHttpServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          res.setHeader("content-type", "application/json");
          if (req.url === "/v1/whoami") {
            res.end(
              JSON.stringify({
                token_id: "tok_1",
                name: "vm",
                kind: "agent",
                role: "agent",
                workspace: { id: "ws_fake", slug: "fake" },
                environment_id: "env_1",
                source_ip: "198.51.100.7",
              }),
            );
            return;
          }
          const body = JSON.parse(Buffer.concat(chunks).toString()) as {
            events: Array<{ id: string; env: { ip: string } }>;
          };
          ingests.push({ at: performance.now(), ids: body.events.map((e) => e.id) });
          expect(body.events[0]!.env.ip).toBe("198.51.100.7");
          const next = answers.shift();
          if (next) {
            res.writeHead(next.status, { "retry-after": next.retryAfter });
            res.end(
              JSON.stringify({
                error: {
                  code: next.status === 429 ? "rate_limited" : "unavailable",
                  message: "busy",
                  request_id: "r",
                },
              }),
            );
            return;
          }
          res.writeHead(202);
          res.end(JSON.stringify({ accepted: body.events.length, duplicates: 0, results: [] }));
        });
      });
      const base = await listen(fake);
      const dir = await mkdtemp(join(tmpdir(), "tether-agent-cfg-"));
      const env = { ...(await simulatedMachine()).env, TETHER_AGENT_CONFIG_DIR: dir };
      try {
        expect((await runAgent(["init", "--server", base, "--token", "t"], env)).code).toBe(0);
        const report = await runAgent(["report", "--account", "amazon:de-01", "--id", "ev-1"], env);
        expect(report.code, report.stderr).toBe(0);
        expect(report.stderr).toMatch(/not sent yet/);
        const flush = await runAgent(["flush"], env);
        expect(flush.code, flush.stderr).toBe(0);
        expect(flush.stdout).toMatch(/flushed 1 event/);
        expect(ingests.map((i) => i.ids)).toEqual([["ev-1"], ["ev-1"], ["ev-1"], ["ev-1"]]);
        // lower bounds only: a loaded machine may wait longer, never shorter
        expect(ingests[2]!.at - ingests[1]!.at).toBeGreaterThanOrEqual(1_950);
        expect(ingests[3]!.at - ingests[2]!.at).toBeGreaterThanOrEqual(950);
      } finally {
        await new Promise((r) => fake.close(r));
        await rm(dir, { recursive: true, force: true });
      }
    },
    SLOW,
  );
});
