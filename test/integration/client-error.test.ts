import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerClientError } from "../../src/http/client-error.ts";

/**
 * What Node answers by itself (a body that never arrives, a request that is not HTTP) carries the error
 * envelope too, in the language the request asked for when its headers arrived.
 */

let server: Server;
let port: number;

beforeAll(async () => {
  // An app that waits for the body, as tether's does, so only the request timeout can answer.
  server = createServer({ requestTimeout: 1_000, connectionsCheckingInterval: 100 }, (req, res) => {
    req.resume();
    req.on("end", () => res.end("{}"));
  });
  server.on("clientError", answerClientError);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Sends `raw` and returns all the server wrote before it closed the connection. */
function exchange(raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(raw));
    let data = "";
    socket.on("data", (chunk) => {
      data += chunk.toString("utf8");
    });
    socket.on("close", () => resolve(data));
    socket.on("error", reject);
  });
}

const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));

describe("answers Node gives before the app", () => {
  it("answers a body that never arrives with 408 and the envelope, in Chinese when asked", async () => {
    const head =
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n";
    const zh = await exchange(`${head}Accept-Language: zh-CN\r\n\r\n{`);
    expect(zh).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(zh.toLowerCase()).toContain("vary: accept-language");
    expect(bodyOf(zh).error).toMatchObject({
      code: "bad_request",
      message: "请求未能在限定时间内完整送达；请重新发送",
    });

    const en = await exchange(`${head}\r\n{`);
    expect(en).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOf(en).error).toMatchObject({
      code: "bad_request",
      message: "the request did not arrive in time; send it again",
    });
    expect(bodyOf(en).error.request_id).toMatch(/^[\w-]{36}$/);
  });

  it("answers what is not HTTP with 400 and the envelope", async () => {
    const answer = await exchange("HELLO\r\n\r\n");
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(bodyOf(answer).error).toMatchObject({
      code: "bad_request",
      message: "the request is not valid HTTP",
    });
  });
});
