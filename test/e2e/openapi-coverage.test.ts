import { beforeAll, describe, expect, it } from "vitest";
import { client } from "../support/api.ts";
import { newWorkspace, uid } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";

const t = useTestApp();

// biome-ignore lint/suspicious/noExplicitAny: the served document, read loosely as the assertions need
let doc: any;
beforeAll(async () => {
  const res = await client(t.app).get("/openapi.json", null);
  expect(res.status).toBe(200);
  doc = res.body;
});

/**
 * Routes the app serves that are not API operations: the document itself, the reference page and its assets,
 * the redirect to the console, and the console's HTML pages and forms (signed in with a cookie, not a token).
 */
const NOT_OPERATIONS = [
  /^GET \/openapi\.json$/,
  /^GET \/docs(\/docs\.(js|css))?$/,
  /^GET \/$/,
  /^(GET|POST) \/console(\/.*)?$/,
];

/** Method and path of every handler the Hono app registered, in the document's `{param}` spelling. */
const served = () =>
  [
    ...new Set(
      t.app.routes
        .filter((r) => r.method !== "ALL")
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
    ),
  ].sort();

const documented = () =>
  Object.entries(doc.paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();

describe("/openapi.json covers the app", () => {
  it("documents every route the app serves, apart from the listed pages", () => {
    const operations = served().filter((r) => !NOT_OPERATIONS.some((p) => p.test(r)));
    expect(operations).toEqual(expect.arrayContaining(["GET /healthz", "GET /readyz", "GET /metrics"]));
    expect(operations.filter((r) => !documented().includes(r))).toEqual([]);
  });

  it("documents no operation the app does not serve", () => {
    expect(documented().filter((op) => !served().includes(op))).toEqual([]);
  });

  it("each exclusion still names a route the app serves", () => {
    for (const pattern of NOT_OPERATIONS)
      expect(
        served().some((r) => pattern.test(r)),
        String(pattern),
      ).toBe(true);
  });

  it("declares the probes and metrics without a token, with their answers", () => {
    for (const path of ["/healthz", "/readyz", "/metrics"]) {
      expect(doc.paths[path].get.security, path).toBeUndefined();
      expect(doc.paths[path].get.tags, path).toEqual(["system"]);
    }
    expect(doc.paths["/readyz"].get.responses["503"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/Error",
    });
    expect(Object.keys(doc.paths["/metrics"].get.responses["200"].content)).toEqual([
      "text/plain; version=0.0.4",
    ]);
  });
});

/** Every `pattern` of the document, with where it is. */
function patterns(node: unknown, at = "#", out: Array<[string, string]> = []): Array<[string, string]> {
  if (!node || typeof node !== "object") return out;
  // arrays too: their entries are keyed by index
  for (const [key, v] of Object.entries(node)) {
    if (key === "pattern" && typeof v === "string") out.push([at, v]);
    else patterns(v, `${at}/${key}`, out);
  }
  return out;
}

describe("patterns in /openapi.json", () => {
  it("are plain ECMA-262 expressions a JSON Schema validator compiles, without and with the u flag", () => {
    const found = patterns(doc);
    expect(found.length).toBeGreaterThan(5);
    for (const [at, p] of found) {
      expect(p, at).not.toMatch(/\/[dgimsuvy]+$/);
      expect(() => new RegExp(p), at).not.toThrow();
      expect(() => new RegExp(p, "u"), at).not.toThrow();
    }
  });

  it("state the printable-characters rule in words where no pattern can", () => {
    const ref = doc.components.schemas.AccountRef.properties.ref;
    expect(ref.pattern).toBeUndefined();
    expect(ref.description).toMatch(/Unicode category C/);
  });

  it("leave the printable-characters rule enforced", async () => {
    const ws = await newWorkspace(t.database);
    const api = client(t.app);
    for (const ref of ["store\u200b17", "store\u000717", "store\ue00017"]) {
      const res = await api.post("/v1/accounts", ws.admin, { platform: "tiktok_shop", ref });
      expect(res.status, JSON.stringify(ref)).toBe(400);
      expect(res.body.error.details, JSON.stringify(ref)).toEqual([
        { path: "ref", message: "must be printable characters" },
      ]);
    }
    const group = await api.post("/v1/accounts", ws.admin, {
      platform: "tiktok_shop",
      ref: uid("store-"),
      group: "team\u202e1",
    });
    expect(group.status).toBe(400);
    expect(group.body.error.details).toEqual([{ path: "group", message: "must be printable characters" }]);
    const fine = await api.post("/v1/accounts", ws.admin, {
      platform: "tiktok_shop",
      ref: uid("美国店铺-"),
      group: "华东 team",
    });
    expect(fine.status).toBe(201);
  });
});
