import { createServer, type IncomingMessage, type Server } from "node:http";

export interface Received {
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON, read loosely by assertions
  json: any;
}

export interface Receiver {
  url: string;
  port: number;
  got: Received[];
  /** answers to give, in order; once used up, 200 `{"errcode":0}` */
  script: Array<{ status: number; headers?: Record<string, string>; body?: string }>;
  close(): Promise<void>;
}

/** An HTTP receiver on loopback that records every request and answers as scripted. */
export async function startReceiver(port = 0): Promise<Receiver> {
  const got: Received[] = [];
  const script: Receiver["script"] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      got.push({ url: req.url ?? "", headers: req.headers, body, json: body ? JSON.parse(body) : null });
      const answer = script.shift() ?? { status: 200, body: '{"errcode":0,"code":0}' };
      res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
      res.end(answer.body ?? "{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const bound = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    got,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
