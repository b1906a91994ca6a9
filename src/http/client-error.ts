import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { ApiError, type ErrorCode, envelope, say } from "../errors.ts";
import type { MessageKey } from "../i18n/index.ts";
import { pickLang } from "../i18n/index.ts";

const ANSWERS: Record<string, [status: number, reason: string, code: ErrorCode, key: MessageKey]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, "Request Timeout", "bad_request", "api.request_timeout"],
  HPE_HEADER_OVERFLOW: [431, "Request Header Fields Too Large", "payload_too_large", "api.headers_too_large"],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [
    413,
    "Payload Too Large",
    "payload_too_large",
    "api.code.payload_too_large",
  ],
};
const MALFORMED: [number, string, ErrorCode, MessageKey] = [
  400,
  "Bad Request",
  "bad_request",
  "api.malformed_http",
];

/**
 * The server's `clientError` listener. Node cuts a request that is too slow (headers or body past their
 * timeouts) or not HTTP at all before the app sees it, and by default answers with a bare status line; this
 * writes the same status with the error envelope, in the language of the request's Accept-Language when its
 * headers have arrived. Once the app has begun its own answer (an early 401 while the body still arrives),
 * nothing more can be said: the connection is only closed, as Node does.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse & { req?: IncomingMessage } })
    ._httpMessage;
  if (err.code !== "ECONNRESET" && socket.writable && !inFlight?.headersSent) {
    const [status, reason, code, key] = ANSWERS[err.code ?? ""] ?? MALFORMED;
    const lang = pickLang(undefined, inFlight?.req?.headers["accept-language"]);
    const body = JSON.stringify(envelope(new ApiError(code, say(key)), randomUUID(), lang));
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nVary: Accept-Language\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
