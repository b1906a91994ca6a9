/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * What every console page is made with: the request's variables, the page frame (language, viewer, incident
 * banners), sending a page or an error page, reading a filter query, and the cases of a workspace.
 */
import type { Context } from "hono";
import { html } from "hono/html";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { groupCases } from "../../core/cases.ts";
import type { Lang, Translate } from "../../i18n/index.ts";
import type { accountEvents } from "../../store/accounts.ts";
import { accountNames, recentAlerts } from "../../store/cases.ts";
import { listIncidents } from "../../store/incidents.ts";
import { type Banner, ErrorPage, type PageFrame, type Viewer } from "../../ui/pages.tsx";
import type { Session } from "../../ui/session.ts";
import type { AppDeps, HonoEnv } from "../context.ts";

export interface ConsoleEnv {
  Variables: HonoEnv["Variables"] & {
    lang: Lang;
    t: Translate;
    session: Session | null;
    viewer: Viewer | null;
  };
}

export type ConsoleContext = Context<ConsoleEnv>;
export type FailStatus = 400 | 401 | 403 | 404 | 409 | 429;

/** How many rows a console list shows per page. */
export const PAGE_SIZE = 25;

/** A page as a complete HTML document. */
export const send = (c: Context, page: JSX.Element, status: ContentfulStatusCode = 200) =>
  c.html(html`<!doctype html>${page}`, status);

/** One stored event as the console's event tables show it (the case page and the account page). */
export function eventRow(e: Awaited<ReturnType<typeof accountEvents>>[number]) {
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

/** A link to `base` with the given filter, changed by `change`; empty values are left out. */
export const linkWith =
  (base: string, filter: Record<string, unknown>) => (change: Record<string, string | undefined>) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...filter, ...change })) if (v) params.set(k, String(v));
    const s = params.toString();
    return s ? `${base}?${s}` : base;
  };

export interface ConsoleKit {
  db: AppDeps["database"]["db"];
  deps: AppDeps;
  /** the frame of the page being answered: language, viewer, active incidents */
  frame(c: ConsoleContext): Promise<PageFrame>;
  /** an error page in the viewer's language */
  fail(c: ConsoleContext, status: FailStatus, message: string): Promise<Response>;
  /**
   * The request's query read by `schema`, an empty field meaning "any"; a query that does not parse is
   * answered with a 400 page naming the fields (returned as `response`).
   */
  query<T extends z.ZodTypeAny>(
    c: ConsoleContext,
    schema: T,
  ): Promise<{ data: z.infer<T>; response?: undefined } | { data?: undefined; response: Response }>;
  /** the workspace's recent findings grouped into cases, newest first, and its accounts' names */
  loadCases(workspaceId: string): Promise<{
    cases: ReturnType<typeof groupCases<Awaited<ReturnType<typeof recentAlerts>>[number]>>;
    names: Awaited<ReturnType<typeof accountNames>>;
  }>;
}

export function consoleKit(deps: AppDeps): ConsoleKit {
  const db = deps.database.db;
  const frame = async (c: ConsoleContext): Promise<PageFrame> => {
    const viewer = c.get("viewer");
    const banners: Banner[] = viewer
      ? (await listIncidents(db, c.get("auth").workspaceId, "active", 5, null)).map((i) => ({
          id: i.id,
          platform: i.platform,
          title: i.title,
          startedAt: i.startedAt,
        }))
      : [];
    const url = new URL(c.req.url);
    return { t: c.get("t"), lang: c.get("lang"), here: `${url.pathname}${url.search}`, viewer, banners };
  };
  const fail = async (c: ConsoleContext, status: FailStatus, message: string) =>
    send(c, <ErrorPage {...(await frame(c))} message={message} />, status);
  return {
    db,
    deps,
    frame,
    fail,
    async query(c, schema) {
      const given = Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v.trim() !== ""));
      const parsed = schema.safeParse(given);
      if (parsed.success) return { data: parsed.data };
      const where = parsed.error.issues.map((i) => i.path.join(".")).join(", ");
      return { response: await fail(c, 400, c.get("t")("error.bad_request", { message: where })) };
    },
    async loadCases(workspaceId) {
      const [alerts, names] = await Promise.all([
        recentAlerts(db, workspaceId),
        accountNames(db, workspaceId),
      ]);
      return { cases: groupCases(alerts), names };
    },
  };
}
