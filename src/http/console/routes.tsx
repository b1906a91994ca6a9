/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { readFile } from "node:fs/promises";
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { resolveSettings } from "../../core/settings.ts";
import { ApiError } from "../../errors.ts";
import { isLang, LANG_COOKIE, pickLang, translator } from "../../i18n/index.ts";
import { tokenIdOfSecret } from "../../ids.ts";
import { LoginPage, type Viewer } from "../../ui/pages.tsx";
import {
  csrfMatches,
  csrfToken,
  newSession,
  openSession,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  sealSession,
  sessionKeys,
} from "../../ui/session.ts";
import type { AppDeps, AuthInfo } from "../context.ts";
import { tokenKey } from "../middleware/rate-limit.ts";
import { sourceIp } from "../source-ip.ts";
import { accountPages } from "./account-pages.tsx";
import { incidentPages } from "./incident-pages.tsx";
import { type ConsoleEnv, consoleKit, send } from "./kit.tsx";
import { queuePages } from "./queue-pages.tsx";

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

  const kit = consoleKit(deps);
  const { fail } = kit;
  const frame = kit.frame;

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
      // The specific reason in the viewer's language when the error carries its words; English otherwise.
      const reason = c.get("lang") === "en" ? err.message : (err.say?.(t) ?? err.message);
      const message =
        err.code === "forbidden"
          ? `${t("error.forbidden")} (${reason})`
          : err.code === "conflict"
            ? t("error.conflict", { message: reason })
            : err.code === "not_found"
              ? t("error.not_found")
              : t("error.bad_request", { message: reason });
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
  // Everything but signing in, the language switch and the static files needs a session.
  const open = new Set(["/console/login", "/console/lang"]);
  router.use("*", (c, next) => {
    const path = new URL(c.req.url).pathname;
    return open.has(path) || path.startsWith("/console/static/") ? next() : signedIn(c, next);
  });

  router.post("/logout", (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: "/console" });
    return c.redirect("/console/login?signed_out=1", 303);
  });

  queuePages(router, kit);
  accountPages(router, kit);
  incidentPages(router, kit);
  return router;
}
