import type { App } from "../../src/app.ts";

export interface Answer<T = any> {
  status: number;
  body: T;
}

/** Typed-enough calls through the real HTTP app (routing, validation, auth, error envelope). */
export function client(app: App) {
  async function call<T = any>(
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer<T>> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (token) (init.headers as Record<string, string>).authorization = `Bearer ${token}`;
    if (body !== undefined) {
      (init.headers as Record<string, string>)["content-type"] ??= "application/json";
      init.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    const res = await app.request(path, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T };
  }
  return {
    call,
    get: <T = any>(path: string, token: string | null) => call<T>("GET", path, token),
    post: <T = any>(path: string, token: string | null, body?: unknown) =>
      call<T>("POST", path, token, body ?? {}),
    patch: <T = any>(path: string, token: string | null, body: unknown) =>
      call<T>("PATCH", path, token, body),
    put: <T = any>(path: string, token: string | null, body: unknown) => call<T>("PUT", path, token, body),
    del: <T = any>(path: string, token: string | null) => call<T>("DELETE", path, token),
  };
}

export type Client = ReturnType<typeof client>;
