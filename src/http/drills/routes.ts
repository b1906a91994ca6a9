import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { type DrillReport, failedAccounts } from "../../core/drill-verify.ts";
import { type AccountRefs, accountIdsIn, renderText } from "../../core/finding-text.ts";
import { ApiError } from "../../errors.ts";
import { type Lang, translator } from "../../i18n/index.ts";
import { reportFromStored, type SavedScope, verifyDrillScope } from "../../services/verify-drill.ts";
import {
  type DrillVerificationRow,
  getDrillVerification,
  listDrillVerifications,
} from "../../store/drills.ts";
import { accountRefs, readerLang } from "../alerts/words.ts";
import type { AppDeps, HonoEnv } from "../context.ts";
import { VIEWER } from "../middleware/auth.ts";
import { errorResponses, IdParam, jsonResponse, ListQuery, newRouter } from "../openapi.ts";
import { decodeCursor, page } from "../pagination.ts";
import { access } from "../roles.ts";
import {
  DrillReportSchema,
  SavedRunSchema,
  SavedRunSummarySchema,
  ScopeBodySchema,
  ScopeQuerySchema,
} from "./schemas.ts";

const tags = ["drills"];

const description =
  "Per account in scope: baseline established or pinned; no open or acknowledged consistency or association " +
  "alert; no device, IP or subnet shared with another group within the sharing window (sharing a person " +
  "trusted excepted); an agent heartbeat from one of its environments within 15 minutes; no active incident " +
  "on its platform. `200` when every check of every account passes, `412` otherwise, with the same body; a " +
  "scope that matches no account fails. Scope filters combine (every one given must hold); no scope is every " +
  "account. Account ids the workspace does not have answer `404`. Every run is saved " +
  "(`/v1/drills/verifications`). Details are in the request's language (Accept-Language).";

const reportResponses = {
  200: jsonResponse(DrillReportSchema, "Every check passed"),
  412: jsonResponse(DrillReportSchema, "At least one check failed, or no account is in scope"),
  ...errorResponses(400, 401, 403, 404),
};

const verifyGet = createRoute({
  method: "get",
  path: "/v1/drills/verify",
  tags,
  summary: "Verify the matrix is ready for a drill (Chaos Toolkit http probe, Litmus httpProbe)",
  description,
  ...access(...VIEWER),
  request: { query: ScopeQuerySchema },
  responses: reportResponses,
});

const verifyPost = createRoute({
  method: "post",
  path: "/v1/drills/verify",
  tags,
  summary: "Verify the matrix is ready for a drill, the scope in a JSON body",
  description,
  ...access(...VIEWER),
  request: {
    body: { required: false, content: { "application/json": { schema: ScopeBodySchema } } },
  },
  responses: reportResponses,
});

const list = createRoute({
  method: "get",
  path: "/v1/drills/verifications",
  tags,
  summary: "Saved drill verifications, newest first",
  ...access(...VIEWER),
  request: { query: z.object({ ...ListQuery }) },
  responses: {
    200: jsonResponse(
      z.object({ verifications: z.array(SavedRunSummarySchema), next_cursor: z.string().nullable() }),
      "A page",
    ),
    ...errorResponses(400, 401, 403),
  },
});

const get = createRoute({
  method: "get",
  path: "/v1/drills/verifications/{id}",
  tags,
  summary: "One saved drill verification, its details in the request's language",
  ...access(...VIEWER),
  request: { params: IdParam },
  responses: { 200: jsonResponse(SavedRunSchema, "The run"), ...errorResponses(401, 403, 404) },
});

/** A report in the reader's words; `names` holds the refs of the accounts its sentences may name. */
function wordReport(report: DrillReport, lang: Lang, names: AccountRefs) {
  const words = (a: DrillReport["accounts"][number]) => ({
    account_id: a.accountId,
    platform: a.platform,
    ref: a.ref,
    checks: a.checks.map((c) => ({ check: c.check, ok: c.ok, detail: renderText(lang, c.text, names) })),
  });
  return {
    verdict: report.verdict,
    checked_at: new Date(report.checkedAt).toISOString(),
    summary: renderText(lang, report.summary, names),
    accounts: report.accounts.map(words),
    failed: failedAccounts(report).map(words),
  };
}

const namedIn = (report: DrillReport) =>
  report.accounts.flatMap((a) => a.checks.flatMap((c) => accountIdsIn(c.text)));

const notFoundRun = () => new ApiError("not_found", (t) => t("api.not_found", { thing: t("drills.thing") }));

export function drillsRouter(deps: AppDeps) {
  const db = deps.database.db;

  async function verify(
    c: Context<HonoEnv>,
    scope: { platform?: string; group?: string; account_ids?: string[] },
  ) {
    const auth = c.get("auth");
    const { id, report } = await verifyDrillScope({
      ctx: { db, clock: deps.clock },
      input: {
        workspaceId: auth.workspaceId,
        settings: auth.settings,
        scope: { platform: scope.platform, group: scope.group, accountIds: scope.account_ids },
        actor: { tokenId: auth.tokenId, name: auth.tokenName },
      },
    });
    const known = new Map(report.accounts.map((a) => [a.accountId, { platform: a.platform, ref: a.ref }]));
    const others = namedIn(report).filter((other) => !known.has(other));
    const names =
      others.length > 0 ? new Map([...known, ...(await accountRefs(db, auth.workspaceId, others))]) : known;
    return { id, ...wordReport(report, readerLang(c), names) };
  }

  /** A saved run in the reader's words; an account erased since reads as a deleted account. */
  async function savedRun(row: DrillVerificationRow, lang: Lang) {
    const unnamed = reportFromStored(row.report, row.verdict, row.checkedAt, new Map(), "");
    const ids = [...unnamed.accounts.map((a) => a.accountId), ...namedIn(unnamed)];
    const names = await accountRefs(db, row.workspaceId, ids);
    const gone = translator(lang)("finding.part.deleted_account");
    const report = reportFromStored(row.report, row.verdict, row.checkedAt, names, gone);
    return {
      id: row.id,
      scope: row.scope as SavedScope,
      created_by: row.createdBy,
      ...wordReport(report, lang, names),
    };
  }

  return newRouter()
    .openapi(verifyGet, async (c) => {
      const q = c.req.valid("query");
      const body = await verify(c, {
        platform: q.platform,
        group: q.group,
        account_ids: q.account_ids?.split(","),
      });
      return body.verdict === "pass" ? c.json(body, 200) : c.json(body, 412);
    })
    .openapi(verifyPost, async (c) => {
      // The body is optional: a probe that POSTs nothing verifies every account.
      const given = c.req.valid("json") ?? {};
      const body = await verify(c, given);
      return body.verdict === "pass" ? c.json(body, 200) : c.json(body, 412);
    })
    .openapi(list, async (c) => {
      const auth = c.get("auth");
      const q = c.req.valid("query");
      const lang = readerLang(c);
      const found = page(
        await listDrillVerifications(db, auth.workspaceId, q.limit, decodeCursor(q.cursor)),
        q.limit,
      );
      return c.json(
        {
          verifications: found.items.map((row) => {
            const report = reportFromStored(row.report, row.verdict, row.checkedAt, new Map(), "");
            return {
              id: row.id,
              scope: row.scope as SavedScope,
              verdict: row.verdict,
              checked_at: row.checkedAt.toISOString(),
              summary: renderText(lang, report.summary),
              accounts: report.accounts.length,
              failed: failedAccounts(report).length,
              created_by: row.createdBy,
            };
          }),
          next_cursor: found.next_cursor,
        },
        200,
      );
    })
    .openapi(get, async (c) => {
      const auth = c.get("auth");
      const row = await getDrillVerification(db, auth.workspaceId, c.req.valid("param").id);
      if (!row) throw notFoundRun();
      return c.json(await savedRun(row, readerLang(c)), 200);
    });
}
