/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { readFile } from "node:fs/promises";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { html } from "hono/html";
import { HTTPException } from "hono/http-exception";
import type { JSX } from "hono/jsx/jsx-runtime";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { type Case, groupCases } from "../../core/cases.ts";
import { clusters as clustersOf } from "../../core/clusters.ts";
import { SEVERITIES } from "../../core/model.ts";
import { resolveSettings } from "../../core/settings.ts";
import { ApiError } from "../../errors.ts";
import { tokenIdOfSecret } from "../../ids.ts";
import { type AlertAction, actOnAlerts } from "../../services/act-on-alerts.ts";
import {
  accountEvents,
  baselineOf,
  environmentIdsOf,
  getAccount,
  listAccounts,
} from "../../store/accounts.ts";
import type { AlertRow } from "../../store/alerts.ts";
import { listLinks } from "../../store/associations.ts";
import { listAudit } from "../../store/audit.ts";
import { type AccountName, accountNames, recentAlerts } from "../../store/cases.ts";
import { getEnvironment } from "../../store/environments.ts";
import { listIncidents } from "../../store/incidents.ts";
import {
  ACCOUNT_STATES,
  type AccountCase,
  type AccountLine,
  AccountPage,
  AccountsPage,
  AssociationsPage,
  type GraphCluster,
  severityRank,
} from "../../ui/accounts.tsx";
import { isLang, LANG_COOKIE, type Lang, pickLang, type Translate, translator } from "../../i18n/index.ts";
import {
  type AuditLine,
  accountText,
  type Banner,
  CASE_STATUSES,
  CasePage,
  ErrorPage,
  type EventLine,
  LoginPage,
  type PageFrame,
  QueuePage,
  RULES,
  type Viewer,
} from "../../ui/pages.tsx";
import {
  csrfMatches,
  csrfToken,
  newSession,
  openSession,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  type Session,
  sealSession,
  sessionKeys,
} from "../../ui/session.ts";
import type { AppDeps, AuthInfo, HonoEnv } from "../context.ts";
import { tokenKey } from "../middleware/rate-limit.ts";
import { sourceIp } from "../source-ip.ts";

/** One stored event as the console's event tables show it (the case page and the account page). */
function eventRow(e: Awaited<ReturnType<typeof accountEvents>>[number]) {
  return {
    id: e.id,
    accountId: e.accountId,
    at: new Date(e.at),
    type: e.type,
    operation: e.operation,
    operator: e.operator,
    ip: e.ip,
    place: [e.city, e.region ?? e.country, e.asn ? `AS${e.asn}` : null].filter(Boolean).join(", "),
    deviceId: e.deviceId,
    timezone: e.timezone,
    userAgent: e.userAgent,
    result: e.resultStatus === "ok" ? "" : [e.resultStatus, e.resultCode].filter(Boolean).join(" "),
  };
}

const PAGE_SIZE = 25;
/** How many events of each account a case shows, and how long after its last finding they may be. */
const CASE_EVENTS = 6;
const CASE_EVENTS_AFTER_MS = 10 * 60_000;
const STATIC: Record<string, string> = {
  "console.css": "text/css; charset=utf-8",
  "console.js": "text/javascript; charset=utf-8",
};

/** The headers of every HTML page tether serves: no inline script, no framing, no sniffing, no referrer. */
export const pageSecurityHeaders = () =>
  secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    xContentTypeOptions: "nosniff",
    crossOriginResourcePolicy: "same-origin",
  });

interface ConsoleEnv {
  Variables: HonoEnv["Variables"] & {
    lang: Lang;
    t: Translate;
    session: Session | null;
    viewer: Viewer | null;
  };
}

const QueueQuery = z.object({
  status: z.enum(CASE_STATUSES).optional(),
  severity: z.enum(SEVERITIES).optional(),
  rule: z.enum(RULES).optional(),
  platform: z.string().max(64).optional(),
  account: z.string().max(200).optional(),
  incident: z.string().max(128).optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
});

const AccountsQuery = z.object({
  q: z.string().max(200).optional(),
  platform: z.string().max(64).optional(),
  group: z.string().max(128).optional(),
  state: z.enum(ACCOUNT_STATES).optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
});
/** How many accounts the list reads at most, and how many links the graph draws at most. */
const ACCOUNTS_MAX = 10_000;
const GRAPH_LINKS = 2_000;
const ACCOUNT_EVENTS = 30;

const ActForm = z.object({
  _csrf: z.string().max(200),
  action: z.enum(["acknowledge", "resolve", "dismiss", "trust"]),
  note: z.string().max(2000).optional(),
  verdict: z.enum(["", "actionable", "false_positive"]).optional(),
});

/** A page as a complete HTML document. */
const send = (c: Context, page: JSX.Element, status: ContentfulStatusCode = 200) =>
  c.html(html`<!doctype html>${page}`, status);

/** Was the request made over TLS: directly, or as a trusted proxy reports it. */
const overTls = (c: Context, trustProxy: boolean) =>
  new URL(c.req.url).protocol === "https:" ||
  (trustProxy && c.req.header("x-forwarded-proto")?.split(",")[0]?.trim() === "https");

/** A path inside the console to come back to; anything else (another site, `//host`) goes to the queue. */
const safeBack = (back: string | undefined) =>
  back && /^\/console(?:[/?][^\\]*)?$/.test(back) && !back.startsWith("//") ? back : "/console";

export function consoleRouter(deps: AppDeps) {
  const db = deps.database.db;
  const keys = async () => sessionKeys(await deps.authCache.pepper(db));
  const files = new Map<string, string>();
  // Everything here lives under /console: its middleware (headers, CSRF, body limit) touches no API route.
  const router = new Hono<ConsoleEnv>().basePath("/console");

  const frame = async (c: Context<ConsoleEnv>): Promise<PageFrame> => {
    const viewer = c.get("viewer");
    const banners: Banner[] = viewer
      ? (await listIncidents(db, c.get("auth").workspaceId, "active", 5, null)).map((i) => ({
          platform: i.platform,
          title: i.title,
          startedAt: i.startedAt,
        }))
      : [];
    const url = new URL(c.req.url);
    return {
      t: c.get("t"),
      lang: c.get("lang"),
      here: `${url.pathname}${url.search}`,
      viewer,
      banners,
    };
  };

  const fail = async (c: Context<ConsoleEnv>, status: 400 | 401 | 403 | 404 | 409 | 429, message: string) =>
    send(c, <ErrorPage {...(await frame(c))} message={message} />, status);

  router.use("*", pageSecurityHeaders());
  router.use("*", async (c, next) => {
    const lang = pickLang(getCookie(c, LANG_COOKIE), c.req.header("accept-language"));
    c.set("lang", lang);
    c.set("t", translator(lang));
    c.set("session", null);
    c.set("viewer", null);
    c.header("cache-control", "no-store");
    c.header("vary", "Cookie, Accept-Language");
    await next();
  });
  // Origin (or Sec-Fetch-Site) must be this console's on every form post, sign-in included; the session's own
  // token in each form is the second check, for browsers that send neither header.
  router.use(
    "*",
    csrf({
      origin: (origin, c) => {
        const url = new URL(c.req.url);
        const scheme = overTls(c, deps.env.TETHER_TRUST_PROXY) ? "https:" : url.protocol;
        return origin === `${scheme}//${url.host}`;
      },
    }),
  );

  // Console forms are a few fields; the API's input gate does not cover these routes.
  router.use(
    "*",
    bodyLimit({
      maxSize: 16 * 1024,
      onError: (c) =>
        fail(c as Context<ConsoleEnv>, 400, c.get("t")("error.bad_request", { message: "body too large" })),
    }),
  );

  router.onError(async (err, c) => {
    const t = c.get("t") ?? translator("en");
    if (err instanceof HTTPException && err.status === 403) return fail(c, 403, t("error.csrf"));
    if (err instanceof ApiError) {
      const status = err.status as 400 | 403 | 404 | 409;
      const message =
        err.code === "forbidden"
          ? `${t("error.forbidden")} (${err.message})`
          : err.code === "conflict"
            ? t("error.conflict", { message: err.message })
            : err.code === "not_found"
              ? t("error.not_found")
              : t("error.bad_request", { message: err.message });
      if ([400, 403, 404, 409].includes(err.status)) return fail(c, status, message);
    }
    // Anything else is the API's to answer (logged there, a 503 while the database is away).
    throw err;
  });

  router.get("/static/:file", async (c) => {
    const file = c.req.param("file");
    const type = STATIC[file];
    if (!type) return fail(c, 404, c.get("t")("error.not_found"));
    let body = files.get(file);
    if (body === undefined) {
      body = await readFile(new URL(`../../ui/static/${file}`, import.meta.url), "utf8");
      files.set(file, body);
    }
    c.header("content-type", type);
    c.header("cache-control", "public, max-age=300");
    return c.body(body);
  });

  router.get("/lang", (c) => {
    const to = c.req.query("to");
    if (isLang(to)) {
      setCookie(c, LANG_COOKIE, to, {
        path: "/",
        sameSite: "Lax",
        httpOnly: true,
        secure: overTls(c, deps.env.TETHER_TRUST_PROXY),
        maxAge: 365 * 24 * 3600,
      });
    }
    return c.redirect(safeBack(c.req.query("back")), 303);
  });

  router.get("/login", async (c) =>
    send(
      c,
      <LoginPage
        {...(await frame(c))}
        notice={c.req.query("signed_out") === "1" ? c.get("t")("login.signed_out") : undefined}
      />,
    ),
  );

  router.post("/login", async (c) => {
    const t = c.get("t");
    const form = await c.req.parseBody();
    const secret = typeof form.token === "string" ? form.token.trim() : "";
    const now = deps.clock.now();
    const address = sourceIp(c, deps.env.TETHER_TRUST_PROXY);
    const presented = tokenKey(secret, tokenIdOfSecret(secret));
    const page = async (error: string, status: 401 | 429) =>
      send(c, <LoginPage {...(await frame(c))} error={error} />, status);
    const limited = (wait: number) => page(t("login.rate_limited", { seconds: wait }), 429);
    // The API's order: a blocked address is refused before its token is checked, a blocked token only when
    // the secret is wrong (knowing a token's id must not lock its holder out).
    const addressWait = deps.authLimiter.retryAfter(address, null, now.getTime());
    if (addressWait > 0) return limited(addressWait);
    const identity =
      secret.length > 0 && secret.length <= 200 ? await deps.authCache.identify(db, secret) : null;
    if (identity?.kind !== "user") {
      const tokenWait = deps.authLimiter.retryAfter(null, presented, now.getTime());
      if (tokenWait > 0) return limited(tokenWait);
      deps.authLimiter.fail(address, presented, now.getTime());
      return page(t("login.failed"), 401);
    }
    const session = newSession(secret, now);
    setCookie(c, SESSION_COOKIE, sealSession(await keys(), session), {
      path: "/console",
      httpOnly: true,
      sameSite: "Strict",
      secure: overTls(c, deps.env.TETHER_TRUST_PROXY),
      maxAge: Math.floor(SESSION_TTL_MS / 1000),
    });
    return c.redirect("/console", 303);
  });

  // Every other console page needs a session whose token is still valid, as the API checks it.
  const signedIn: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
    const now = deps.clock.now();
    const k = await keys();
    const session = openSession(k, getCookie(c, SESSION_COOKIE), now);
    const identity = session ? await deps.authCache.identify(db, session.secret) : null;
    if (!session || !identity || identity.kind !== "user") {
      if (getCookie(c, SESSION_COOKIE)) deleteCookie(c, SESSION_COOKIE, { path: "/console" });
      if (c.req.method === "GET") return c.redirect("/console/login", 303);
      return fail(c, 401, c.get("t")("login.failed"));
    }
    const auth: AuthInfo = {
      tokenId: identity.tokenId,
      tokenName: identity.tokenName,
      workspaceId: identity.workspaceId,
      workspaceSlug: identity.workspaceSlug,
      kind: identity.kind,
      role: identity.role,
      environmentId: identity.environmentId,
      settings: resolveSettings(deps.env, identity.workspaceSettings),
    };
    c.set("auth", auth);
    c.set("session", session);
    c.set("viewer", {
      name: identity.tokenName,
      role: identity.role as Viewer["role"],
      csrf: csrfToken(k, session),
    });
    if (c.req.method === "POST") {
      const form = await c.req.parseBody();
      if (!csrfMatches(k, session, form._csrf)) return fail(c, 403, c.get("t")("error.csrf"));
    }
    await next();
  };
  router.use("/", signedIn);
  router.use("/cases/*", signedIn);
  router.use("/poll", signedIn);
  router.use("/accounts/*", signedIn);
  router.use("/associations", signedIn);
  router.use("/logout", signedIn);

  router.post("/logout", (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: "/console" });
    return c.redirect("/console/login?signed_out=1", 303);
  });

  const loadCases = async (workspaceId: string) => {
    const [alerts, names] = await Promise.all([recentAlerts(db, workspaceId), accountNames(db, workspaceId)]);
    return { cases: groupCases(alerts), names };
  };

  router.get("/", async (c) => {
    // An empty field of the filter form means "any".
    const given = Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v.trim() !== ""));
    const parsed = QueueQuery.safeParse(given);
    const t = c.get("t");
    if (!parsed.success) {
      const where = parsed.error.issues.map((i) => i.path.join(".")).join(", ");
      return fail(c, 400, t("error.bad_request", { message: where }));
    }
    const q = parsed.data;
    const auth = c.get("auth");
    const { cases, names } = await loadCases(auth.workspaceId);
    const matched = cases.filter((k) => matches(k, q, names));
    const pages = Math.ceil(matched.length / PAGE_SIZE);
    const incidents = (await listIncidents(db, auth.workspaceId, undefined, 20, null)).map((i) => ({
      id: i.id,
      title: `${i.platform}: ${i.title}`,
    }));
    const platforms = [...new Set([...names.values()].map((a) => a.platform))].sort();
    const filter = { ...q, page: undefined };
    const query = (change: Record<string, string | undefined>) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...filter, ...change })) if (v) params.set(k, String(v));
      const s = params.toString();
      return s ? `/console?${s}` : "/console";
    };
    return send(
      c,
      <QueuePage
        {...(await frame(c))}
        cases={matched.slice((q.page - 1) * PAGE_SIZE, q.page * PAGE_SIZE)}
        total={matched.length}
        page={q.page}
        pages={pages}
        filter={q}
        platforms={platforms}
        incidents={incidents}
        names={names}
        query={query}
      />,
    );
  });

  router.get("/poll", async (c) => {
    const { cases } = await loadCases(c.get("auth").workspaceId);
    return c.json({ newest: cases[0]?.id ?? null, cases: cases.length });
  });

  const findCase = async (c: Context<ConsoleEnv>) => {
    const { cases, names } = await loadCases(c.get("auth").workspaceId);
    const id = c.req.param("id");
    return { kase: cases.find((k) => k.id === id || k.alerts.some((a) => a.id === id)), names };
  };

  const renderCase = async (c: Context<ConsoleEnv>, flash?: string) => {
    const { kase, names } = await findCase(c);
    if (!kase) return fail(c, 404, c.get("t")("case.not_found"));
    const workspaceId = c.get("auth").workspaceId;
    const audit: AuditLine[] = [];
    for (const a of kase.alerts) {
      for (const row of await listAudit(db, workspaceId, { targetType: "alert", targetId: a.id }, 50, null)) {
        audit.push({ at: row.at, actor: row.actorName, action: row.action, details: row.details });
      }
    }
    audit.sort((x, y) => y.at.getTime() - x.at.getTime());
    // Each account's last few events up to a little after the case: what happened, by whom, from where.
    const events: EventLine[] = [];
    const until = { at: kase.lastSeenAt.getTime() + CASE_EVENTS_AFTER_MS, id: "" };
    for (const accountId of kase.accountIds.slice(0, 5)) {
      for (const e of (await accountEvents(db, workspaceId, accountId, CASE_EVENTS, until)).slice(
        0,
        CASE_EVENTS,
      )) {
        events.push(eventRow(e));
      }
    }
    events.sort((x, y) => y.at.getTime() - x.at.getTime());
    const incident = kase.incidentId
      ? (await listIncidents(db, workspaceId, undefined, 50, null)).find((i) => i.id === kase.incidentId)
      : undefined;
    return send(
      c,
      <CasePage
        {...(await frame(c))}
        kase={kase}
        names={names}
        audit={audit}
        events={events}
        incidentTitle={incident ? `${incident.platform}: ${incident.title}` : null}
        flash={flash}
      />,
    );
  };

  router.get("/cases/:id", (c) => renderCase(c));

  router.post("/cases/:id/act", async (c) => {
    const t = c.get("t");
    const auth = c.get("auth");
    if (auth.role === "viewer") return fail(c, 403, t("error.forbidden"));
    const parsed = ActForm.safeParse(await c.req.parseBody());
    if (!parsed.success) {
      return fail(
        c,
        400,
        t("error.bad_request", { message: parsed.error.issues.map((i) => i.path).join(", ") }),
      );
    }
    const { kase } = await findCase(c);
    if (!kase) return fail(c, 404, t("case.not_found"));
    const action: AlertAction = parsed.data.action;
    const moved = await actOnAlerts({
      ctx: { db },
      input: {
        workspaceId: auth.workspaceId,
        alertIds: kase.alerts.map((a) => a.id),
        action,
        note: parsed.data.note?.trim() || undefined,
        verdict: parsed.data.verdict || undefined,
        actor: { tokenId: auth.tokenId, name: auth.tokenName, admin: auth.role === "admin" },
        now: deps.clock.now(),
        strict: false,
      },
    });
    const label = t(`action.${action}`);
    if (moved.length === 0) return fail(c, 409, t("case.nothing", { action: label }));
    return renderCase(c, t("case.done", { action: label, count: moved.length }));
  });

  /** Each account's open findings: how many, and the worst severity among them. */
  const openByAccount = async (workspaceId: string) => {
    const open = new Map<string, { count: number; worst: string | null }>();
    for (const a of await recentAlerts(db, workspaceId)) {
      if (a.status !== "open") continue;
      for (const id of a.accountIds) {
        const o = open.get(id) ?? { count: 0, worst: null };
        o.count += 1;
        if (o.worst === null || severityRank(a.severity) > severityRank(o.worst)) o.worst = a.severity;
        open.set(id, o);
      }
    }
    return open;
  };

  const accountLine = (
    a: Awaited<ReturnType<typeof listAccounts>>[number],
    open: Map<string, { count: number; worst: string | null }>,
  ): AccountLine => ({
    id: a.id,
    platform: a.platform,
    ref: a.ref,
    label: a.label,
    group: a.group,
    state: a.state,
    events: a.eventCount,
    openAlerts: open.get(a.id)?.count ?? 0,
    risk: open.get(a.id)?.worst ?? null,
  });

  router.get("/accounts", async (c) => {
    const given = Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v.trim() !== ""));
    const parsed = AccountsQuery.safeParse(given);
    const t = c.get("t");
    if (!parsed.success) {
      const where = parsed.error.issues.map((i) => i.path.join(".")).join(", ");
      return fail(c, 400, t("error.bad_request", { message: where }));
    }
    const q = parsed.data;
    const workspaceId = c.get("auth").workspaceId;
    const [all, open] = await Promise.all([
      listAccounts(db, workspaceId, {}, ACCOUNTS_MAX, null),
      openByAccount(workspaceId),
    ]);
    const needle = q.q?.trim().toLowerCase();
    const matched = all
      .slice(0, ACCOUNTS_MAX)
      .filter(
        (a) =>
          (!q.platform || a.platform === q.platform) &&
          (!q.group || a.group === q.group) &&
          (!q.state || a.state === q.state) &&
          (!needle || `${a.platform}/${a.ref}`.toLowerCase().includes(needle)),
      )
      .map((a) => accountLine(a, open))
      // The riskiest first, then by platform/ref: what needs a look is on the first page.
      .sort(
        (x, y) =>
          severityRank(y.risk ?? "") - severityRank(x.risk ?? "") ||
          y.openAlerts - x.openAlerts ||
          `${x.platform}/${x.ref}`.localeCompare(`${y.platform}/${y.ref}`),
      );
    const filter = { ...q, page: undefined };
    const query = (change: Record<string, string | undefined>) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...filter, ...change })) if (v) params.set(k, String(v));
      const s = params.toString();
      return s ? `/console/accounts?${s}` : "/console/accounts";
    };
    return send(
      c,
      <AccountsPage
        {...(await frame(c))}
        accounts={matched.slice((q.page - 1) * PAGE_SIZE, q.page * PAGE_SIZE)}
        total={matched.length}
        page={q.page}
        pages={Math.ceil(matched.length / PAGE_SIZE)}
        filter={q}
        platforms={[...new Set(all.map((a) => a.platform))].sort()}
        groups={[...new Set(all.map((a) => a.group).filter((g) => g !== null))].sort()}
        query={query}
      />,
    );
  });

  router.get("/accounts/:id", async (c) => {
    const t = c.get("t");
    const workspaceId = c.get("auth").workspaceId;
    const row = await getAccount(db, workspaceId, c.req.param("id"));
    if (!row) return fail(c, 404, t("account.not_found"));
    const [open, baseline, events, envIds, { cases }] = await Promise.all([
      openByAccount(workspaceId),
      baselineOf(db, row.id),
      accountEvents(db, workspaceId, row.id, ACCOUNT_EVENTS, null),
      environmentIdsOf(db, [row.id]),
      loadCases(workspaceId),
    ]);
    const environments: string[] = [];
    for (const id of envIds.get(row.id) ?? []) {
      const env = await getEnvironment(db, workspaceId, id);
      if (env) environments.push(env.name);
    }
    const mine: AccountCase[] = cases
      .filter((k) => k.accountIds.includes(row.id))
      .slice(0, 50)
      .map((k) => ({
        id: k.id,
        severity: k.severity,
        status: k.status,
        rules: [...new Set(k.alerts.map((a) => a.rule))],
        firstSeenAt: k.firstSeenAt,
      }));
    return send(
      c,
      <AccountPage
        {...(await frame(c))}
        account={accountLine(row, open)}
        pin={row.pin}
        baseline={baseline.map((b) => ({
          kind: b.kind,
          value: b.value,
          count: b.count,
          firstSeenAt: new Date(b.firstSeenAt),
          lastSeenAt: new Date(b.lastSeenAt),
          accepted: b.accepted,
        }))}
        events={events.slice(0, ACCOUNT_EVENTS).map(eventRow)}
        cases={mine}
        environments={environments}
      />,
    );
  });

  router.get("/associations", async (c) => {
    const auth = c.get("auth");
    const since = deps.clock.now().getTime() - auth.settings.shareDays * 86_400_000;
    const [found, names] = await Promise.all([
      listLinks(db, auth.workspaceId, { since }, GRAPH_LINKS + 1),
      accountNames(db, auth.workspaceId),
    ]);
    const links = found.slice(0, GRAPH_LINKS);
    const drawn: GraphCluster[] = clustersOf(links).map((k) => {
      const members = new Set(k.account_ids);
      return {
        nodes: k.account_ids.map((id) => ({
          id,
          label: accountText(names, id),
          group: names.get(id)?.group ?? null,
        })),
        edges: links
          .filter((l) => !l.allowed && members.has(l.accountA))
          .map((l) => ({ a: l.accountA, b: l.accountB, kind: l.kind, value: l.value })),
      };
    });
    return send(
      c,
      <AssociationsPage {...(await frame(c))} clusters={drawn} truncated={found.length > GRAPH_LINKS} />,
    );
  });

  return router;
}

/** Does a case pass the queue's filters: its status, its worst severity, any finding's rule or account. */
function matches(k: Case<AlertRow>, q: z.infer<typeof QueueQuery>, names: Map<string, AccountName>): boolean {
  if (q.status && k.status !== q.status) return false;
  if (q.severity && k.severity !== q.severity) return false;
  if (q.rule && !k.alerts.some((a) => a.rule === q.rule)) return false;
  const accounts = k.accountIds.map((id) => names.get(id)).filter((a) => a !== undefined);
  if (q.platform && !accounts.some((a) => a.platform === q.platform)) return false;
  if (q.account) {
    const wanted = q.account.trim().toLowerCase();
    if (
      !accounts.some(
        (a) => a.ref.toLowerCase() === wanted || `${a.platform}/${a.ref}`.toLowerCase() === wanted,
      )
    )
      return false;
  }
  if (q.incident === "any" && !k.alerts.some((a) => a.incidentId)) return false;
  if (q.incident && q.incident !== "any" && !k.alerts.some((a) => a.incidentId === q.incident)) return false;
  return true;
}
