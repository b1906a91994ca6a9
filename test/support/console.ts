import { expect } from "vitest";
import type { TestContext } from "./harness.ts";

/** The console's origin as the in-process app sees it: its forms must come from here. */
export const ORIGIN = "http://localhost";
/** The headers of a console form post from the console itself. */
export const FORM = { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN } as const;

export interface Page {
  status: number;
  headers: Headers;
  text: string;
}

export const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
/** The form token of the page's first form. */
export const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
/** The text a person reads: the page without its tags and attributes. */
export const humanText = (html: string) => html.replace(/<[^>]*>/g, " ");

/** Console pages of the test's app, in-process, redirects not followed, with a session cookie when given. */
export function consoleClient(t: Pick<TestContext, "app">) {
  async function request(path: string, init: RequestInit & { cookie?: string } = {}): Promise<Page> {
    const headers = new Headers(init.headers);
    if (init.cookie) headers.set("cookie", init.cookie);
    const res = await t.app.request(path, { ...init, headers, redirect: "manual" });
    return { status: res.status, headers: res.headers, text: await res.text() };
  }
  /** Signs in with a token; the answer and the session cookie, whatever the outcome. */
  async function signInPage(token: string, headers: Record<string, string> = {}) {
    const page = await request("/console/login", {
      method: "POST",
      headers: { ...FORM, ...headers },
      body: form({ token }),
    });
    return { cookie: (page.headers.get("set-cookie") ?? "").split(";")[0]!, page };
  }
  /** Signs in with a user token that must be accepted; the session cookie. */
  async function signIn(token: string): Promise<string> {
    const { cookie, page } = await signInPage(token);
    expect(page.status).toBe(303);
    return cookie;
  }
  /** A console form post with the session's cookie. */
  const post = (path: string, cookie: string, fields: Record<string, string>) =>
    request(path, { method: "POST", headers: FORM, cookie, body: form(fields) });
  return { request, signIn, signInPage, post };
}
