import type { Context, MiddlewareHandler } from "hono";
import { ApiError, envelope, type Say, say } from "../../errors.ts";
import { pickLang } from "../../i18n/index.ts";
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
      throw new ApiError("bad_request", say("api.query_control"), queryProblems);
    }
    const method = c.req.method;
    if (method === "GET" || method === "HEAD" || c.req.raw.body === null) return next();

    const encoding = c.req.header("content-encoding");
    if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") {
      c.header("accept-encoding", "identity");
      return unsupported(c, say("api.content_encoding"));
    }
    const contentType = c.req.header("content-type");
    if (contentType !== undefined && !JSON_MEDIA_TYPE.test(contentType.trim())) {
      return unsupported(c, say("api.content_type"));
    }

    const limit = maxBodyBytes(c.req.path);
    const bytes = await readBounded(c.req.raw, limit);
    if (bytes === null) throw new ApiError("payload_too_large", say("api.body_too_large", { limit }));
    // The stream is spent: whoever reads the body next (a validator probing for one) reads these bytes.
    c.req.raw = new Request(c.req.raw, { body: bytes });
    if (bytes.length === 0) return next();
    if (contentType === undefined) return unsupported(c, say("api.content_type"));

    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new ApiError("bad_request", say("api.body_not_utf8"), [
        { path: "body", message: "is not valid UTF-8" },
      ]);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      // The parser's own words stay in English only: they are V8's, not tether's.
      throw new ApiError("bad_request", say("api.body_not_json"), [
        {
          path: "body",
          message: `is not valid JSON: ${(err as Error).message}`,
          say: say("api.detail.not_json"),
        },
      ]);
    }
    const problems = jsonProblems(text);
    if (problems.length > 0) throw new ApiError("bad_request", say("api.body_refused"), problems);

    // The validators get the value already parsed: a 25 MB batch is not parsed twice.
    Object.assign(c.req, { text: async () => text, json: async () => parsed });
    return next();
  };
}

function unsupported(c: Context<HonoEnv>, message: Say) {
  c.header("vary", "Accept-Language", { append: true });
  const lang = pickLang(undefined, c.req.header("accept-language"));
  return c.json(envelope(new ApiError("bad_request", message), c.get("requestId"), lang), 415);
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
