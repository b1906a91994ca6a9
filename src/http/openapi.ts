import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import { ApiError, type ErrorCode, type ErrorDetail, type Say, say, sayInWords } from "../errors.ts";
import type { HonoEnv } from "./context.ts";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum([
        "bad_request",
        "unauthorized",
        "forbidden",
        "not_found",
        "conflict",
        "payload_too_large",
        "rate_limited",
        "unavailable",
        "internal",
      ]),
      message: z.string().openapi({
        description:
          "For people, in the language of Accept-Language: Simplified Chinese for any `zh`, else English. " +
          "Programs read `code` and `details[].path`, which are the same in every language.",
      }),
      request_id: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi("Error");

const ERROR_DESCRIPTIONS: Record<number, [ErrorCode, string]> = {
  400: [
    "bad_request",
    "Malformed JSON, wrong types or values, unknown fields, keys given twice, NUL or lone surrogates, nesting past 32 levels; `details` names the offending paths",
  ],
  401: ["unauthorized", "No token, or a token tether does not know"],
  403: ["forbidden", "The token's role may not do this"],
  404: ["not_found", "No such object in the caller's workspace"],
  409: ["conflict", "Conflicts with an existing object"],
  413: [
    "payload_too_large",
    "The body is larger than the route admits: the largest legal batch for POST /v1/events, TETHER_MAX_BODY_BYTES elsewhere",
  ],
  415: [
    "bad_request",
    "The body is not application/json in UTF-8, or has a Content-Encoding other than identity (send it uncompressed)",
  ],
  429: [
    "rate_limited",
    "Too many failed authentications from this address or for this token: retry after `Retry-After` seconds",
  ],
  503: [
    "unavailable",
    "Busy or the database is unreachable: nothing was stored; retry after `Retry-After` seconds",
  ],
};

/**
 * The error answers a route declares: the shared envelope under each status. A route that authenticates
 * (401) may also answer 429 to a caller past the failed-authentication limit.
 */
export function errorResponses(...statuses: Array<400 | 401 | 403 | 404 | 409 | 413 | 415 | 503>) {
  const out: Record<
    number,
    { description: string; content: { "application/json": { schema: typeof ErrorSchema } } }
  > = {};
  for (const s of statuses.includes(401) ? [...statuses, 429] : statuses) {
    out[s] = {
      description: ERROR_DESCRIPTIONS[s]![1],
      content: { "application/json": { schema: ErrorSchema } },
    };
  }
  return out;
}

/** Zod issues as `details`; for a union (single event or batch) the branch that got furthest is reported. */
export function zodDetails(error: ZodError): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const walk = (issues: ZodError["issues"], prefix: PropertyKey[]) => {
    for (const issue of issues) {
      const path = [...prefix, ...issue.path];
      if (issue.code === "invalid_union" && issue.errors.length > 0) {
        const best = [...issue.errors].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0]!;
        walk(best, path);
        continue;
      }
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys)
          out.push({ path: [...path, key].map(String).join("."), message: "is not a known field" });
        continue;
      }
      out.push({
        path: path.length > 0 ? path.map(String).join(".") : "body",
        message: issue.message,
        say: sayInWords(issue.message) ?? sayIssue(issue),
      });
    }
  };
  walk(error.issues, []);
  return out.slice(0, 100);
}

const TYPES = new Set(["string", "number", "int", "boolean", "object", "array"]);

/** A zod issue in the catalogue's words: zod's own English messages have no Chinese. */
function sayIssue(issue: ZodError["issues"][number]): Say {
  switch (issue.code) {
    case "invalid_type":
      if (issue.message.endsWith("received undefined")) return say("api.detail.required");
      if (!TYPES.has(issue.expected)) return say("api.detail.invalid");
      return (t) => t("api.detail.wrong_type", { expected: t(`api.type.${issue.expected as "string"}`) });
    case "too_big": {
      const max = Number(issue.maximum);
      if (issue.origin === "string") return say("api.detail.too_long", { max });
      if (issue.origin === "array") return say("api.detail.too_many", { max });
      return say("api.detail.too_big", { max });
    }
    case "too_small": {
      const min = Number(issue.minimum);
      if (issue.origin === "string") return say("api.detail.too_short", { min });
      if (issue.origin === "array") return say("api.detail.too_few", { min });
      return say("api.detail.too_small", { min });
    }
    case "invalid_value":
      return say("api.detail.one_of", { values: issue.values.map((v) => JSON.stringify(v)).join(", ") });
    case "invalid_format":
      return say(issue.format === "datetime" ? "api.detail.datetime" : "api.detail.format");
    default:
      return say("api.detail.invalid");
  }
}

const depth = (issues: ZodError["issues"]) => Math.max(0, ...issues.map((i) => i.path.length));

export function newRouter() {
  return new OpenAPIHono<HonoEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new ApiError("bad_request", say("api.schema_mismatch"), zodDetails(result.error));
      }
    },
  });
}

/** Free text: anything printable or not, except NUL, which PostgreSQL text and jsonb cannot hold. */
export const text = (max: number, min = 0) =>
  z
    .string()
    .min(min)
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching NUL is the point
    .regex(/^[^\u0000]*$/, "must not contain NUL characters");

/** Names and identifiers: no control characters at all. */
export const name = (max: number, min = 1) =>
  z
    .string()
    .min(min)
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
    .regex(/^[^\u0000-\u001f\u007f]*$/, "must not contain control characters");

export const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(128)
    // tether's ids are ASCII; a NUL (`%00`) or other control character must not reach a query
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces")
    .openapi({ param: { name: "id", in: "path" } }),
});

export const ListQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
};

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
