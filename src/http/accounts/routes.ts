import { createRoute, z } from "@hono/zod-openapi";
import type { BaselineKind } from "../../core/baseline.ts";
import type { NetworkType } from "../../core/enrich/network-types.ts";
import type { Enricher } from "../../core/enrich/types.ts";
import { ApiError, notFound, say } from "../../errors.ts";
import { deleteAccount } from "../../services/delete-account.ts";
import { updateAccountSettings } from "../../services/update-account.ts";
import {
  type AccountRow,
  accountEvents,
  baselineOf,
  createAccount,
  environmentIdsOf,
  getAccount,
  isUniqueViolation,
  listAccounts,
} from "../../store/accounts.ts";
import { type AlertRow, listAlerts } from "../../store/alerts.ts";
import { accountLinksPage } from "../../store/associations.ts";
import { writeAudit } from "../../store/audit.ts";
import { drillIdsAmong } from "../../store/drills-rehearsal.ts";
import { AlertSchema, alertJson } from "../alerts/routes.ts";
import type { AppDeps } from "../context.ts";
import { ADMIN, VIEWER } from "../middleware/auth.ts";
import { errorResponses, IdParam, jsonBody, jsonResponse, newRouter } from "../openapi.ts";
import { decodeCursor, page } from "../pagination.ts";
import { access } from "../roles.ts";
import { Timestamp } from "../schemas.ts";
import {
  AccountListQuery,
  AccountSchema,
  accountJson,
  BaselineSchema,
  CreateAccountSchema,
  PatchAccountSchema,
  StoredEventSchema,
} from "./schemas.ts";

const tags = ["accounts"];

const create = createRoute({
  method: "post",
  path: "/v1/accounts",
  tags,
  summary: "Register an account, optionally with its isolation group and pin",
  ...access(...ADMIN),
  request: { body: jsonBody(CreateAccountSchema) },
  responses: { 201: jsonResponse(AccountSchema, "Created"), ...errorResponses(400, 401, 403, 409) },
});

const list = createRoute({
  method: "get",
  path: "/v1/accounts",
  tags,
  summary: "List accounts, newest first",
  ...access(...VIEWER),
  request: { query: AccountListQuery },
  responses: {
    200: jsonResponse(
      z.object({ accounts: z.array(AccountSchema), next_cursor: z.string().nullable() }),
      "A page",
    ),
    ...errorResponses(400, 401, 403),
  },
});

const get = createRoute({
  method: "get",
  path: "/v1/accounts/{id}",
  tags,
  summary: "One account",
  ...access(...VIEWER),
  request: { params: IdParam },
  responses: { 200: jsonResponse(AccountSchema, "The account"), ...errorResponses(401, 403, 404) },
});

const patch = createRoute({
  method: "patch",
  path: "/v1/accounts/{id}",
  tags,
  summary: "Change an account's label, group or pin (audited)",
  ...access(...ADMIN),
  request: { params: IdParam, body: jsonBody(PatchAccountSchema) },
  responses: { 200: jsonResponse(AccountSchema, "The account"), ...errorResponses(400, 401, 403, 404) },
});

const baseline = createRoute({
  method: "get",
  path: "/v1/accounts/{id}/baseline",
  tags,
  summary: "What is normal for the account: every value it was seen with, counts, first and last seen",
  ...access(...VIEWER),
  request: { params: IdParam },
  responses: { 200: jsonResponse(BaselineSchema, "The baseline"), ...errorResponses(401, 403, 404) },
});

const eventsRoute = createRoute({
  method: "get",
  path: "/v1/accounts/{id}/events",
  tags,
  summary: "The account's events, newest first by occurred_at",
  ...access(...VIEWER),
  request: {
    params: IdParam,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(500).default(50),
      before: Timestamp.optional(),
      cursor: z.string().max(300).optional(),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({ events: z.array(StoredEventSchema), next_cursor: z.string().nullable() }),
      "A page",
    ),
    ...errorResponses(400, 401, 403, 404),
  },
});

const exportRoute = createRoute({
  method: "get",
  path: "/v1/accounts/{id}/export",
  tags,
  summary: "Everything stored about one account as one JSON document, streamed (audited)",
  description:
    "`{account, exported_at, baseline, alerts, links, events}`; events newest first with their attributes. " +
    "Read page by page while it is sent, so a large account costs no more memory than a small one; an " +
    "account that keeps receiving events while it is exported is not one snapshot.",
  ...access(...ADMIN),
  request: { params: IdParam },
  responses: {
    200: jsonResponse(
      z.object({
        account: AccountSchema,
        exported_at: z.string(),
        baseline: z.array(z.object({ kind: z.string() }).catchall(z.unknown())),
        alerts: z.array(AlertSchema),
        links: z.array(
          z.object({ account_ids: z.array(z.string()), kind: z.string() }).catchall(z.unknown()),
        ),
        events: z.array(StoredEventSchema.extend({ attributes: z.unknown() })),
      }),
      "The account's data",
    ),
    ...errorResponses(401, 403, 404),
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/v1/accounts/{id}",
  tags,
  summary: "Delete an account and its data (audited); alerts that also name other accounts keep a tombstone",
  ...access(...ADMIN),
  request: { params: IdParam },
  responses: {
    200: jsonResponse(
      z
        .object({
          deleted: z.string(),
          tombstone: z
            .string()
            .openapi({ description: "what kept alerts show in place of the account's id" }),
          erased: z.record(z.string(), z.number().int()),
        })
        .openapi("AccountDeleted"),
      "Deleted",
    ),
    ...errorResponses(401, 403, 404),
  },
});

const EXPORT_PAGE = 500;

/** The export document, one page of rows at a time, pulled as the client reads. */
async function* exportChunks(
  deps: AppDeps,
  workspaceId: string,
  account: AccountRow,
  environmentIds: string[],
  now: Date,
): AsyncGenerator<string> {
  const db = deps.database.db;
  const json = JSON.stringify;
  yield `{"account":${json(accountJson(account, environmentIds))},"exported_at":${json(now.toISOString())}`;
  const baseline = (await baselineOf(db, account.id)).map((v) => ({
    kind: v.kind,
    value: v.value,
    count: v.count,
    first_seen_at: v.firstSeenAt.toISOString(),
    last_seen_at: v.lastSeenAt.toISOString(),
    accepted: v.accepted,
    healed_at: v.healedAt?.toISOString() ?? null,
  }));
  yield `,"baseline":${json(baseline)},"alerts":[`;
  let first = true;
  for (let before: string | null = null; ; ) {
    const found: { items: AlertRow[]; next_cursor: string | null } = page(
      await listAlerts(db, workspaceId, { accountId: account.id }, EXPORT_PAGE, before),
      EXPORT_PAGE,
    );
    const drills = await drillIdsAmong(
      db,
      workspaceId,
      found.items.map((a) => a.incidentId),
    );
    for (const a of found.items) {
      yield `${first ? "" : ","}${json(alertJson(a, a.summary, drills))}`;
      first = false;
    }
    if (!found.next_cursor) break;
    before = found.items[found.items.length - 1]!.id;
  }
  yield `],"links":[`;
  first = true;
  for (let after: Parameters<typeof accountLinksPage>[3] = null; ; ) {
    const links = await accountLinksPage(db, workspaceId, account.id, after, EXPORT_PAGE);
    for (const l of links) {
      const { other: _, ...link } = l;
      yield `${first ? "" : ","}${json({
        account_ids: link.accountIds,
        kind: link.kind,
        value: link.value,
        count: link.count,
        first_seen_at: new Date(link.firstSeenAt).toISOString(),
        last_seen_at: new Date(link.lastSeenAt).toISOString(),
      })}`;
      first = false;
    }
    if (links.length < EXPORT_PAGE) break;
    const last = links[links.length - 1]!;
    after = { kind: last.kind, value: last.value, other: last.other };
  }
  yield `],"events":[`;
  first = true;
  const network = ipDetails(deps.enricher);
  for (let cursor: { at: number; id: string } | null = null; ; ) {
    const list = await accountEvents(db, workspaceId, account.id, EXPORT_PAGE, cursor);
    const shown = list.slice(0, EXPORT_PAGE);
    for (const e of shown) {
      yield `${first ? "" : ","}${json({ ...storedEventJson(e, network(e.ip)), attributes: e.attributes })}`;
      first = false;
    }
    if (list.length <= EXPORT_PAGE) break;
    const last = shown[shown.length - 1]!;
    cursor = { at: last.at, id: last.id };
  }
  yield "]}";
}

function decodeEventCursor(cursor: string | undefined, before: string | undefined) {
  if (cursor) {
    const [at, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
    if (!at || !id || !Number.isFinite(Number(at))) {
      throw new ApiError("bad_request", say("api.invalid_cursor"), [
        { path: "cursor", message: "is not a cursor this API issued" },
      ]);
    }
    return { at: Number(at), id };
  }
  // Everything strictly before the instant: "" sorts below every id, so events at that instant stay out.
  return before ? { at: Date.parse(before), id: "" } : null;
}

interface IpDetails {
  asnOrg: string | null;
  networkType: NetworkType | null;
  timezone: string | null;
}

const NO_DETAILS: IpDetails = { asnOrg: null, networkType: null, timezone: null };

/**
 * The ASN organisation, network type and timezone of a stored IP, which events do not store: looked up
 * again with the enricher, once per distinct IP of a page. Ingest stores only IPs the enricher parsed; one that
 * does not parse shows neither rather than failing the page.
 */
function ipDetails(enricher: Enricher): (ip: string | null) => IpDetails {
  const seen = new Map<string, IpDetails>();
  const lookup = (ip: string): IpDetails => {
    try {
      const net = enricher.net(ip);
      return { asnOrg: net.asnOrg, networkType: net.networkType, timezone: net.timezone };
    } catch {
      return NO_DETAILS;
    }
  };
  return (ip) => {
    if (ip === null) return NO_DETAILS;
    let details = seen.get(ip);
    if (!details) {
      details = lookup(ip);
      seen.set(ip, details);
    }
    return details;
  };
}

type StoredEventRow = Awaited<ReturnType<typeof accountEvents>>[number];

/** An event as the API shows it: what was stored, and what the stored IP determines. */
function storedEventJson(e: StoredEventRow, net: IpDetails): z.infer<typeof StoredEventSchema> {
  return {
    id: e.id,
    type: e.type,
    occurred_at: e.occurredAt.toISOString(),
    received_at: e.receivedAt.toISOString(),
    environment_id: e.environmentId,
    operator: e.operator,
    operation: e.operation,
    result: {
      status: e.resultStatus,
      code: e.resultCode,
      http_status: e.httpStatus,
      message: e.resultMessage,
    },
    env: {
      ip: e.ip,
      ip_class: e.ipClass,
      subnet: e.subnet,
      asn: e.asn,
      asn_org: net.asnOrg,
      network_type: net.networkType,
      country: e.country,
      region: e.region,
      city: e.city,
      ip_timezone: net.timezone,
      device_id: e.deviceId,
      user_agent: e.userAgent,
      browser: e.browser,
      os: e.os,
      timezone: e.timezone,
      locale: e.locale,
      profile: e.profile,
    },
    risk: e.risk,
    // Stored findings also keep their sentence (`text`) for rendering; the API shows rule, severity, message.
    findings: (e.findings as Array<{ rule: string; severity: string; message: string }>).map(
      ({ rule, severity, message }) => ({ rule, severity, message }),
    ),
  };
}

export function accountsRouter(deps: AppDeps) {
  const db = deps.database.db;
  return newRouter()
    .openapi(create, async (c) => {
      const auth = c.get("auth");
      const body = c.req.valid("json");
      const now = deps.clock.now();
      try {
        const row = await db.transaction(async (tx) => {
          const created = await createAccount(tx, auth.workspaceId, body, now);
          await writeAudit(tx, auth.workspaceId, { tokenId: auth.tokenId, name: auth.tokenName }, now, [
            { action: "account.created", targetType: "account", targetId: created.id, details: body },
          ]);
          return created;
        });
        return c.json(accountJson(row, []), 201);
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ApiError(
            "conflict",
            say("api.account_exists", { platform: body.platform, ref: body.ref }),
          );
        throw err;
      }
    })
    .openapi(list, async (c) => {
      const auth = c.get("auth");
      const q = c.req.valid("query");
      const found = page(
        await listAccounts(db, auth.workspaceId, q, q.limit, decodeCursor(q.cursor)),
        q.limit,
      );
      const envs = await environmentIdsOf(
        db,
        found.items.map((a) => a.id),
      );
      return c.json(
        {
          accounts: found.items.map((a) => accountJson(a, envs.get(a.id) ?? [])),
          next_cursor: found.next_cursor,
        },
        200,
      );
    })
    .openapi(get, async (c) => {
      const row = await getAccount(db, c.get("auth").workspaceId, c.req.valid("param").id);
      if (!row) throw notFound("account");
      const envs = await environmentIdsOf(db, [row.id]);
      return c.json(accountJson(row, envs.get(row.id) ?? []), 200);
    })
    .openapi(patch, async (c) => {
      const auth = c.get("auth");
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const row = await updateAccountSettings({
        ctx: { db },
        input: {
          workspaceId: auth.workspaceId,
          accountId: id,
          changes: body,
          actor: { tokenId: auth.tokenId, name: auth.tokenName },
          now: deps.clock.now(),
        },
      });
      if (!row) throw notFound("account");
      const envs = await environmentIdsOf(db, [row.id]);
      return c.json(accountJson(row, envs.get(row.id) ?? []), 200);
    })
    .openapi(baseline, async (c) => {
      const auth = c.get("auth");
      const row = await getAccount(db, auth.workspaceId, c.req.valid("param").id);
      if (!row) throw notFound("account");
      const values: Record<string, Array<z.infer<typeof BaselineSchema>["values"][string][number]>> = {};
      for (const v of await baselineOf(db, row.id)) {
        const list = values[v.kind as BaselineKind] ?? [];
        values[v.kind as BaselineKind] = list;
        list.push({
          value: v.value,
          count: v.count,
          first_seen_at: v.firstSeenAt.toISOString(),
          last_seen_at: v.lastSeenAt.toISOString(),
          accepted: v.accepted,
          healed_at: v.healedAt?.toISOString() ?? null,
          heal: v.accepted
            ? null
            : {
                clean_events: v.healEvents,
                since: v.healFirstAt?.toISOString() ?? null,
                blocked: v.healBlocked,
              },
        });
      }
      const hours =
        row.firstEventAt && row.lastEventAt
          ? (row.lastEventAt.getTime() - row.firstEventAt.getTime()) / 3_600_000
          : 0;
      return c.json(
        {
          account_id: row.id,
          state: row.state,
          pinned: row.pin !== null,
          pin: row.pin,
          learning: {
            events: row.eventCount,
            required_events: auth.settings.learningEvents,
            hours: Math.round(hours * 100) / 100,
            required_hours: auth.settings.learningHours,
          },
          values,
        },
        200,
      );
    })
    .openapi(exportRoute, async (c) => {
      const auth = c.get("auth");
      const { id } = c.req.valid("param");
      const now = deps.clock.now();
      const account = await db.transaction(async (tx) => {
        const row = await getAccount(tx, auth.workspaceId, id);
        if (!row) throw notFound("account");
        await writeAudit(tx, auth.workspaceId, { tokenId: auth.tokenId, name: auth.tokenName }, now, [
          { action: "account.exported", targetType: "account", targetId: id },
        ]);
        return row;
      });
      const envs = (await environmentIdsOf(db, [id])).get(id) ?? [];
      const chunks = exportChunks(deps, auth.workspaceId, account, envs, now);
      const encoder = new TextEncoder();
      const requestId = c.get("requestId");
      // Pulled: the next page is read only when the client has taken the previous one.
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const next = await chunks.next();
            if (next.done) controller.close();
            else controller.enqueue(encoder.encode(next.value));
          } catch (err) {
            // Headers are gone: the only honest signal left is a body that does not end as JSON.
            deps.logger.error({ err: { message: (err as Error).message }, requestId }, "export failed");
            controller.error(err);
          }
        },
        async cancel() {
          await chunks.return(undefined);
        },
      });
      return c.body(body, 200, {
        "content-type": "application/json; charset=utf-8",
        "content-disposition": `attachment; filename="${id}.json"`,
      }) as never;
    })
    .openapi(deleteRoute, async (c) => {
      const auth = c.get("auth");
      const { id } = c.req.valid("param");
      const { tombstone, erased } = await deleteAccount({
        ctx: { db },
        input: {
          workspaceId: auth.workspaceId,
          accountId: id,
          actor: { tokenId: auth.tokenId, name: auth.tokenName },
          now: deps.clock.now(),
        },
      });
      return c.json({ deleted: id, tombstone, erased: { ...erased } }, 200);
    })
    .openapi(eventsRoute, async (c) => {
      const auth = c.get("auth");
      const { id } = c.req.valid("param");
      const q = c.req.valid("query");
      const row = await getAccount(db, auth.workspaceId, id);
      if (!row) throw notFound("account");
      const list = await accountEvents(
        db,
        auth.workspaceId,
        id,
        q.limit,
        decodeEventCursor(q.cursor, q.before),
      );
      const shown = list.slice(0, q.limit);
      const last = shown[shown.length - 1];
      const network = ipDetails(deps.enricher);
      return c.json(
        {
          events: shown.map((e) => storedEventJson(e, network(e.ip))),
          next_cursor:
            list.length > q.limit && last
              ? Buffer.from(`${last.at}|${last.id}`, "utf8").toString("base64url")
              : null,
        },
        200,
      );
    });
}
