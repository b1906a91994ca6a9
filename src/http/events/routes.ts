import { createRoute } from "@hono/zod-openapi";
import { eventProblems } from "../../core/event.ts";
import { ApiError, say } from "../../errors.ts";
import { ingestEvents } from "../../services/ingest-events.ts";
import { IngestOverloaded } from "../../services/ingest-pipeline.ts";
import { readerLang, wordFindings } from "../alerts/words.ts";
import { type AppDeps, callerOf } from "../context.ts";
import { errorResponses, jsonBody, jsonResponse, newRouter, zodDetails } from "../openapi.ts";
import { access } from "../roles.ts";
import { sourceIp } from "../source-ip.ts";
import { EventBatchSchema, EventSchema, IngestBodySchema, IngestResponseSchema } from "./schemas.ts";

/**
 * The body is one event or a batch; which one is read from its shape, so a bad field of a single event is
 * reported at its own path (`occurred_at`), not as a missing `events`.
 */
function rejectIngestBody(body: unknown): never {
  const batch = typeof body === "object" && body !== null && !Array.isArray(body) && "events" in body;
  const parsed = (batch ? EventBatchSchema : EventSchema).safeParse(body);
  const details = parsed.success ? [] : zodDetails(parsed.error);
  throw new ApiError("bad_request", say("api.schema_mismatch"), details);
}

export const INGEST_PATH = "/v1/events";

const ingestRoute = createRoute({
  method: "post",
  path: INGEST_PATH,
  tags: ["telemetry"],
  summary: "Ingest one event or a batch of up to 1000",
  description:
    "Every event is judged before the answer: one result per event, in order, with its risk (0–100) and findings. " +
    "Idempotent by event id: a repeat is counted in `duplicates` and answered with the stored verdict. " +
    "A field the schema does not name is refused with its path (put extra data in `attributes`). The body " +
    "limit admits the largest legal batch, every field at its longest, as JSON.stringify writes it; the body " +
    "is read uncompressed only (415 for a Content-Encoding). Nothing of a refused batch is stored.",
  ...access("agent", "admin"),
  request: { body: jsonBody(IngestBodySchema) },
  responses: {
    202: jsonResponse(IngestResponseSchema, "Accepted and judged"),
    ...errorResponses(400, 401, 403, 413, 415, 503),
  },
});

export function eventsRouter(deps: AppDeps) {
  return newRouter().openapi(
    ingestRoute,
    async (c) => {
      const body = c.req.valid("json");
      const auth = c.get("auth");
      const batch = "events" in body;
      const inputs = batch ? body.events : [body];
      const problems = eventProblems(inputs, deps.clock.now(), deps.env.TETHER_MAX_EVENT_AGE_DAYS, (i) =>
        batch ? `events.${i}.` : "",
      );
      if (problems.length > 0) throw new ApiError("bad_request", say("api.events_invalid"), problems);
      let result: Awaited<ReturnType<typeof ingestEvents>>;
      try {
        result = await ingestEvents({
          ctx: { ingest: deps.ingest },
          input: {
            caller: callerOf(auth),
            settings: auth.settings,
            sourceIp: sourceIp(c, deps.env.TETHER_TRUST_PROXY),
            events: inputs,
          },
        });
      } catch (err) {
        if (!(err instanceof IngestOverloaded)) throw err;
        throw new ApiError(
          "unavailable",
          say("api.overloaded", { seconds: err.retryAfterSeconds }),
          undefined,
          err.retryAfterSeconds,
        );
      }
      // The reporting agent named each event's account: only other accounts (a sharing peer) need a lookup.
      const known = new Map(
        result.results.flatMap((r, i) => {
          const account = inputs[i]?.account;
          return r.account_id && account ? [[r.account_id, account] as const] : [];
        }),
      );
      const worded = await wordFindings(
        deps.database.db,
        auth.workspaceId,
        readerLang(c),
        result.results.flatMap((r) => r.findings),
        known,
      );
      let next = 0;
      const results = result.results.map((r) => ({
        id: r.id,
        account_id: r.account_id,
        risk: r.risk,
        findings: r.findings.map(() => worded[next++]!),
        risk_factors: r.risk_factors,
      }));
      return c.json({ accepted: result.accepted, duplicates: result.duplicates, results }, 202);
    },
    (result) => {
      // @hono/zod-validator hands the hook the raw body as `data` on failure too; its types omit it.
      if (!result.success) rejectIngestBody((result as unknown as { data: unknown }).data);
      return undefined;
    },
  );
}
