import { createRoute } from "@hono/zod-openapi";
import { translator } from "../../i18n/index.ts";
import { PREFLIGHT_ACCOUNT, runPreflight } from "../../services/run-preflight.ts";
import { getIncident } from "../../store/incidents.ts";
import { readerLang, wordFindings } from "../alerts/words.ts";
import { type AppDeps, callerOf } from "../context.ts";
import { incidentJson } from "../incidents/schemas.ts";
import { errorResponses, jsonBody, jsonResponse, newRouter } from "../openapi.ts";
import { access } from "../roles.ts";
import { sourceIp } from "../source-ip.ts";
import { PreflightRequestSchema, PreflightResponseSchema } from "./schemas.ts";

const route = createRoute({
  method: "post",
  path: "/v1/preflight",
  tags: ["telemetry"],
  summary: "Ask before acting: allow, warn or deny, with reasons",
  description:
    "deny: a sensitive operation during an active incident on the account's platform; during one, an env whose IP, " +
    "network or device is not in the account's baseline (the improvised switch); a login while the account " +
    "is in a retry storm, an env that contradicts the pin, a device or IP used by an account of another group. " +
    "warn: the env deviates from the learned baseline. A reviewer's unexpired override allows. Recorded for " +
    "audit; never feeds the baseline.",
  ...access("agent", "admin"),
  request: { body: jsonBody(PreflightRequestSchema) },
  responses: {
    200: jsonResponse(PreflightResponseSchema, "The decision"),
    ...errorResponses(400, 401, 403, 413),
  },
});

export function preflightRouter(deps: AppDeps) {
  return newRouter().openapi(route, async (c) => {
    const auth = c.get("auth");
    const body = c.req.valid("json");
    const answer = await runPreflight({
      ctx: {
        db: deps.database.db,
        runner: deps.database.runner,
        clock: deps.clock,
        enricher: deps.ingest.enricher,
        options: { baselineDays: deps.env.TETHER_BASELINE_DAYS, historyPerAccount: 2_000 },
      },
      input: {
        caller: callerOf(auth),
        settings: auth.settings,
        sourceIp: sourceIp(c, deps.env.TETHER_TRUST_PROXY),
        question: body,
      },
    });
    const incident = answer.incident
      ? await getIncident(deps.database.db, auth.workspaceId, answer.incident.id)
      : null;
    const lang = readerLang(c);
    const reasons = await wordFindings(
      deps.database.db,
      auth.workspaceId,
      lang,
      answer.reasons,
      new Map([[answer.accountId ?? PREFLIGHT_ACCOUNT, body.account]]),
    );
    const breakGlass =
      answer.decision !== "deny"
        ? null
        : translator(lang)("preflight.break_glass", {
            path: `/v1/accounts/${answer.accountId ?? "{account_id}"}/overrides`,
            operation: body.operation,
          });
    return c.json(
      {
        decision: answer.decision,
        reasons,
        incident: incident ? incidentJson(incident) : null,
        drill_id: incident?.kind === "drill" ? incident.id : null,
        break_glass: breakGlass,
      },
      200,
    );
  });
}
