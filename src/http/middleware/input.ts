import type { Context, MiddlewareHandler } from "hono";
import { ApiError, envelope } from "../../errors.ts";
import type { HonoEnv } from "../context.ts";
import { jsonProblems, LONE_SURROGATE } from "./json-scan.ts";

/** `application/json` or `application/…+json`, UTF-8 (the only charset JSON has, RFC 8259) or none named. */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The one gate every `/v1` request passes before routing, so no route can forget it: query values without
 * control characters; a body only as identity-encoded UTF-8 JSON, read up to the route's limit and no further,
 * and free of what JSON.parse accepts but tether must not take (see `jsonProblems`). Refusals use the
 * error envelope: 415 for a media type or encoding tether does not read, 413 past the limit, 400 with the
 * offending paths otherwise. The validators downstream get the body already parsed.
 */
export function guardInput(maxBodyBytes: (path: string) => number): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const queryProblems = Object.entries(c.req.queries()).flatMap(([key, values]) =>
      values.some((v) => CONTROL.test(v) || LONE_SURROGATE.test(v)) || CONTROL.test(key)
        ? [{ path: key, message: "must not contain control characters" }]
        : [],
    );
    if (queryProblems.length > 0) {
      throw new ApiError("bad_request", "the query string holds control characters", queryProblems);
    }
    const method = c.req.method;
    if (method === "GET" || method === "HEAD" || c.req.raw.body === null) return next();

    const encoding = c.req.header("content-encoding");
    if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") {
      c.header("accept-encoding", "identity");
      return unsupported(c, "Content-Encoding is not supported; send the body uncompressed");
    }
    const contentType = c.req.header("content-type");
    if (contentType !== undefined && !JSON_MEDIA_TYPE.test(contentType.trim())) {
      return unsupported(c, "Content-Type must be application/json (UTF-8)");
    }

    const limit = maxBodyBytes(c.req.path);
    const bytes = await readBounded(c.req.raw, limit);
    if (bytes === null) throw new ApiError("payload_too_large", `the body is larger than ${limit} bytes`);
    // The stream is spent: whoever reads the body next (a validator probing for one) reads these bytes.
    c.req.raw = new Request(c.req.raw, { body: bytes });
    if (bytes.length === 0) return next();
    if (contentType === undefined) return unsupported(c, "Content-Type must be application/json (UTF-8)");

    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new ApiError("bad_request", "the body is not valid UTF-8", [
        { path: "body", message: "is not valid UTF-8" },
      ]);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ApiError("bad_request", "the body is not valid JSON", [
        { path: "body", message: `is not valid JSON: ${(err as Error).message}` },
      ]);
    }
    const problems = jsonProblems(text);
    if (problems.length > 0)
      throw new ApiError("bad_request", "the body holds values tether refuses", problems);

    // The validators get the value already parsed: a 25 MB batch is not parsed twice.
    Object.assign(c.req, { text: async () => text, json: async () => parsed });
    return next();
  };
}

function unsupported(c: Context<HonoEnv>, message: string) {
  return c.json(envelope(new ApiError("bad_request", message), c.get("requestId")), 415);
}

/** The body's bytes, or null as soon as it is longer than `limit` (what is past the limit is never read). */
async function readBounded(request: Request, limit: number): Promise<Uint8Array | null> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > limit) return null;
  const reader = request.body!.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}
