import { mkdtemp, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ServerProcess } from "../../src/server-process.ts";
import { startServerProcess } from "../support/server.ts";

/**
 * The HTTP server's own limits, seen from raw sockets as a slow or impatient client sees them: slow
 * headers and slow bodies are cut within seconds, an idle keep-alive connection outlives a proxy's 60 s
 * idle timeout, and an early answer (401 before the body is read) does not reset a client still sending.
 */

const ADMIN = "http-timeouts-admin-token-0123456789";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw connection that records what it read and how it ended. */
function open(port: number): Promise<{ socket: Socket; read: () => string; ended: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    socket.on("data", (chunk) => {
      data += chunk.toString("latin1");
    });
    const ended = new Promise<string>((done) => {
      socket.on("error", (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
      socket.on("close", () => done("closed"));
    });
    socket.once("connect", () => resolve({ socket, read: () => data, ended }));
    socket.once("error", reject);
  });
}

/** Resolves with `value` after `ms`, so a race can tell "ended" from "still open". */
const resolvesAfter = <T>(ms: number, value: T) => sleep(ms).then(() => value);

describe("HTTP timeouts and connection handling", () => {
  let dir: string;
  let server: ServerProcess & { url: string };
  let port: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tether-http-"));
    server = await startServerProcess({
      TETHER_DATA_DIR: dir,
      TETHER_BOOTSTRAP_TOKEN: ADMIN,
      TETHER_HTTP_HEADERS_TIMEOUT_MS: "2000",
      TETHER_HTTP_REQUEST_TIMEOUT_MS: "3000",
    });
    port = Number(new URL(server.url).port);
  }, 120_000);
  afterEach(() => {
    // A test that fails because the server went away says why, with what the server last wrote.
    if (server.child.exitCode !== null || server.child.signalCode !== null)
      throw new Error(
        `the server exited (${server.child.exitCode ?? server.child.signalCode}):\n${server.tail.join("\n")}`,
      );
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("cuts a client that sends its body too slowly within seconds, not minutes", async () => {
    const conn = await open(port);
    conn.socket.write(
      `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\n` +
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
    );
    const trickle = setInterval(() => conn.socket.write(" "), 500);
    // Node's default holds this request for 300 s; the configured 3 s cut it at the next check.
    const outcome = await Promise.race([conn.ended, resolvesAfter(20_000, "still open after 20 s")]);
    clearInterval(trickle);
    conn.socket.destroy();
    expect(outcome).not.toBe("still open after 20 s");
    expect(conn.read()).toMatch(/^HTTP\/1\.1 408/);
    expect(conn.read()).toContain('"code":"bad_request"');
  }, 60_000);

  it("cuts a client that sends its headers too slowly", async () => {
    const conn = await open(port);
    conn.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    const trickle = setInterval(() => conn.socket.write("X-Slow: y\r\n"), 500);
    const outcome = await Promise.race([conn.ended, resolvesAfter(20_000, "still open after 20 s")]);
    clearInterval(trickle);
    conn.socket.destroy();
    expect(outcome).not.toBe("still open after 20 s");
  }, 60_000);

  it("keeps an idle keep-alive connection longer than a proxy's idle timeout and says so", async () => {
    const conn = await open(port);
    conn.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => conn.read().includes('"ok"'));
    expect(conn.read().toLowerCase()).toContain("keep-alive: timeout=65");
    // Past Node's default of 5 s, the server would have closed the connection under the client's next request.
    await sleep(6_000);
    conn.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => conn.read().split("HTTP/1.1 200").length === 3, 10_000);
    conn.socket.destroy();
  }, 60_000);

  for (const early of [
    {
      status: 401,
      path: "/v1/events",
      token: "wrong-token-wrong-token",
      size: 2 * 1024 * 1024,
      code: "unauthorized",
    },
    // Past TETHER_MAX_BODY_BYTES (4 MiB): ingest admits far more, the largest legal batch.
    { status: 413, path: "/v1/preflight", token: ADMIN, size: 5 * 1024 * 1024, code: "payload_too_large" },
  ]) {
    it(`reads the whole body of a request it answers early (${early.status}), so the client is not reset mid-send`, async () => {
      const conn = await open(port);
      conn.socket.write(
        `POST ${early.path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${early.token}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${early.size}\r\n\r\n`,
      );
      // The answer is sent at once; the client keeps sending its body for a second or two after it.
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let failure: string | null = null;
      conn.socket.on("error", (err: NodeJS.ErrnoException) => {
        failure = err.code ?? err.message;
      });
      conn.ended.then((how) => {
        failure ??= `connection ${how}`;
      });
      for (let sent = 0; sent < early.size && failure === null; sent += chunk.length) {
        await new Promise<void>((done) => conn.socket.write(chunk, () => done()));
        await sleep(30);
      }
      await until(() => conn.read().includes(early.code) || failure !== null, 10_000);
      // the connection is still usable: the body was read to its end, not reset
      conn.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
      await until(() => conn.read().includes('"ok"') || failure !== null, 10_000);
      expect(failure).toBeNull();
      conn.socket.destroy();
      expect(conn.read()).toMatch(new RegExp(`^HTTP/1\\.1 ${early.status}`));
    }, 60_000);
  }
});

async function until(test: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(20);
  }
}
