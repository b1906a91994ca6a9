import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import { beforeAll, describe, expect, it } from "vitest";
import { PLATFORM_FAILURES, SENSITIVE_OPERATIONS, SEVERITIES } from "../../src/core/model.ts";
import { ACCOUNT_RULES } from "../../src/core/rules/index.ts";
import { ERROR_STATUS } from "../../src/errors.ts";
import { ROLES } from "../../src/http/context.ts";
import { DOCS_SCRIPT } from "../../src/http/docs.ts";
import { ruleMeaning } from "../../src/http/openapi.ts";
import { ACCOUNT_FAILURES } from "../../src/store/review.ts";
import { client } from "../support/api.ts";
import { newWorkspace } from "../support/factories.ts";
import { useTestApp } from "../support/harness.ts";
import { type Caller, callRoute, MISSING_IDS, openApiName, PROTECTED_ROUTES } from "../support/routes.ts";

const t = useTestApp();
const ROOT = join(import.meta.dirname, "../..");

interface Operation {
  description?: string;
  security?: unknown[];
  "x-tether-roles"?: Caller[];
}
// biome-ignore lint/suspicious/noExplicitAny: the parsed document, read loosely as the assertions need
type Doc = any;

let doc: Doc;
beforeAll(async () => {
  const res = await client(t.app).get("/openapi.json", null);
  expect(res.status).toBe(200);
  doc = res.body;
});

const operations = (): Array<{ name: string; op: Operation }> =>
  Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
  );

const schema = (name: string) => doc.components.schemas[name];

describe("/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeDefined();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers).toEqual([expect.objectContaining({ url: "/" })]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    for (const prefix of ["ttu_", "tta_"]) {
      expect(doc.components.securitySchemes.bearer.description).toContain(prefix);
      expect(doc.info.description).toContain(prefix);
    }
  });

  it("lists every rule of the rules index and the incident alert, with its default severity and meaning", () => {
    const ids = [...ACCOUNT_RULES.map((r) => r.id), "platform_incident"];
    const rules = schema("RuleId");
    expect([...rules.enum].sort()).toEqual([...ids].sort());
    for (const rule of ACCOUNT_RULES) {
      expect(rules["x-tether-default-severity"][rule.id], rule.id).toBe(rule.severity);
      const line = rules["x-enum-descriptions"][rules.enum.indexOf(rule.id)];
      expect(line).toBe(`${rule.severity}: ${ruleMeaning(rule.id)}`);
    }
    expect(rules["x-tether-default-severity"].platform_incident).toBe("high");
  });

  it("lists severities, failure codes, sensitive operations, roles and error codes as described enums", () => {
    const expected: Record<string, readonly string[]> = {
      Severity: SEVERITIES,
      PlatformFailureCode: PLATFORM_FAILURES,
      AccountFailureCode: ACCOUNT_FAILURES,
      SensitiveOperation: SENSITIVE_OPERATIONS,
      Role: ROLES,
      ErrorCode: Object.keys(ERROR_STATUS),
    };
    for (const [name, values] of Object.entries(expected)) {
      const s = schema(name);
      expect(s?.enum, name).toEqual([...values]);
      expect(s.description, name).toEqual(expect.any(String));
      expect(s["x-enum-descriptions"], name).toHaveLength(values.length);
      for (const line of s["x-enum-descriptions"]) expect(line.length, name).toBeGreaterThan(10);
    }
    expect(schema("ErrorCode")["x-tether-statuses"]).toEqual(ERROR_STATUS);
  });

  it("references the enumerations where the API uses them", () => {
    const ref = (name: string) => `#/components/schemas/${name}`;
    const refs = (s: { $ref?: string; anyOf?: Array<{ $ref?: string }> }) =>
      [s.$ref, ...(s.anyOf ?? []).map((a) => a.$ref)].filter(Boolean);
    expect(schema("Alert").properties.rule.$ref).toBe(ref("RuleId"));
    expect(schema("Alert").properties.severity.$ref).toBe(ref("Severity"));
    expect(refs(schema("Finding").properties.rule)).toEqual([ref("RuleId")]);
    expect(schema("Finding").properties.severity.$ref).toBe(ref("Severity"));
    expect(refs(schema("EventResult").properties.code)).toEqual([
      ref("PlatformFailureCode"),
      ref("AccountFailureCode"),
    ]);
    expect(refs(schema("Event").properties.operation)).toEqual([ref("SensitiveOperation")]);
    expect(refs(schema("PreflightRequest").properties.operation)).toEqual([ref("SensitiveOperation")]);
    expect(schema("Error").properties.error.properties.code.$ref).toBe(ref("ErrorCode"));
  });

  it("names the roles of every operation that needs a token, in the extension and in words", () => {
    const secured = operations().filter(({ op }) => op.security);
    expect(secured.length).toBe(PROTECTED_ROUTES.length);
    for (const { name, op } of secured) {
      const roles = op["x-tether-roles"];
      expect(roles, name).toEqual(expect.arrayContaining([expect.any(String)]));
      expect(op.description, name).toContain(`Tokens allowed: ${roles!.join(", ")}.`);
      const row = PROTECTED_ROUTES.find((r) => openApiName(r) === name);
      expect([...roles!].sort(), name).toEqual([...row!.allowed].sort());
    }
  });
});

describe("the roles /openapi.json states are the ones the router enforces", () => {
  let tokens: Record<Caller, string>;
  beforeAll(async () => {
    const ws = await newWorkspace(t.database);
    const env = await client(t.app).post("/v1/environments", ws.admin, {
      name: "roles-probe",
      account_ids: [],
    });
    expect(env.status).toBe(201);
    tokens = { agent: env.body.token, viewer: ws.viewer, reviewer: ws.reviewer, admin: ws.admin };
  });

  it.each(PROTECTED_ROUTES.map((r) => [openApiName(r), r] as const))("%s", async (name, route) => {
    const [method, path] = name.split(" ") as [string, string];
    const documented: Caller[] = doc.paths[path][method.toLowerCase()]["x-tether-roles"];
    const api = client(t.app);
    for (const caller of ["agent", "viewer", "reviewer", "admin"] as const) {
      const res = await callRoute(api, route, MISSING_IDS, tokens[caller]);
      if (documented.includes(caller))
        expect([401, 403], `${caller}: ${res.status}`).not.toContain(res.status);
      else expect(res.status, caller).toBe(403);
    }
  });
});

/** Just enough of a DOM for the /docs script: elements with a class, text and children. */
class FakeElement {
  className = "";
  children: FakeElement[] = [];
  private text = "";
  constructor(readonly tag: string) {}
  set textContent(value: string) {
    this.text = value;
    this.children = [];
  }
  get textContent(): string {
    return this.text + this.children.map((c) => c.textContent).join("\n");
  }
  appendChild(child: FakeElement) {
    this.children.push(child);
    return child;
  }
}

describe("/docs", () => {
  it("serves the page, its style and its script", async () => {
    const api = client(t.app);
    const page = await api.get("/docs", null);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script src="/docs/docs.js"');
    expect((await api.get("/docs/docs.css", null)).status).toBe(200);
    const script = await t.app.request("/docs/docs.js");
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await script.text()).toBe(DOCS_SCRIPT);
  });

  it("renders every operation with its roles, and the enumerations with their meanings", async () => {
    const root = new FakeElement("main");
    const document = { getElementById: () => root, createElement: (tag: string) => new FakeElement(tag) };
    const fetch = async (url: string) => {
      expect(url).toBe("/openapi.json");
      return { json: async () => structuredClone(doc) };
    };
    new Function("document", "fetch", DOCS_SCRIPT)(document, fetch);
    await new Promise((resolve) => setTimeout(resolve, 0));
    const text = root.textContent;
    expect(text).toContain(doc.info.description);
    for (const { name, op } of operations()) {
      const [, path] = name.split(" ");
      expect(text).toContain(` ${path} — `);
      if (op["x-tether-roles"]) expect(text).toContain(op["x-tether-roles"].join(" · "));
    }
    for (const rule of ACCOUNT_RULES) expect(text).toContain(ruleMeaning(rule.id));
    for (const code of PLATFORM_FAILURES) expect(text).toContain(code);
  });
});

describe("docs/api.md", () => {
  let md = "";
  beforeAll(() => {
    md = readFileSync(join(ROOT, "docs/api.md"), "utf8");
  });
  /** `| GET | `/v1/alerts` | viewer, reviewer, admin | … |` rows of the route table */
  const rows = () =>
    [...md.matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| ([^|]+) \|/gm)].map((m) => ({
      name: `${m[1]} ${m[2]}`,
      roles: m[3]!.trim(),
    }));
  const table = (heading: string) => {
    const start = md.indexOf(heading);
    expect(start, heading).toBeGreaterThanOrEqual(0);
    return md.slice(start, md.indexOf("\n\n", md.indexOf("\n|", start)));
  };

  it("has a row for every operation of /openapi.json, with the roles it states", () => {
    const documented = operations().map(({ name, op }) => ({
      name,
      roles: op["x-tether-roles"]?.join(", ") ?? "none",
    }));
    // the document and the page that renders it are rows of the table but not operations of the document
    expect(
      rows()
        .filter((r) => r.name !== "GET /openapi.json" && r.name !== "GET /docs")
        .sort((a, b) => a.name.localeCompare(b.name)),
    ).toEqual(documented.sort((a, b) => a.name.localeCompare(b.name)));
  });

  it("tables every rule with its default severity and whether it alerts while learning", () => {
    const rules = table("### Rules");
    for (const rule of [
      ...ACCOUNT_RULES,
      { id: "platform_incident", severity: "high", quietWhileLearning: false },
    ]) {
      const learning = rule.quietWhileLearning ? "quiet" : "alerts";
      expect(rules, rule.id).toMatch(
        new RegExp(`^\\| \`${rule.id}\` \\| ${rule.severity} \\| ${learning} \\|`, "m"),
      );
    }
    expect(rules.match(/^\| `[a-z_]+` \|/gm)).toHaveLength(ACCOUNT_RULES.length + 1);
  });

  it("tables every severity, failure code, sensitive operation and error code", () => {
    const expectations: Array<[string, readonly string[]]> = [
      ["### Severities", SEVERITIES],
      ["### Result codes", [...PLATFORM_FAILURES, ...ACCOUNT_FAILURES]],
      ["### Sensitive operations", SENSITIVE_OPERATIONS],
      ["### Error codes", Object.keys(ERROR_STATUS)],
    ];
    for (const [heading, values] of expectations) {
      const section = table(heading);
      for (const value of values)
        expect(section, `${heading}: ${value}`).toMatch(new RegExp(`^\\| \`${value}\` \\|`, "m"));
      expect(section.match(/^\| `[a-z_0-9]+` \|/gm), heading).toHaveLength(values.length);
    }
    const errors = table("### Error codes");
    for (const [code, status] of Object.entries(ERROR_STATUS))
      expect(errors).toMatch(new RegExp(`^\\| \`${code}\` \\| ${status}`, "m"));
  });
});

it("keeps the repository free of references to material outside it", () => {
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  })
    .split("\0")
    .filter((f) => f && !/\.(png|jpe?g|gif|ico|woff2?|gz|mmdb|bin)$/.test(f));
  // Spelt in pieces so that neither this file nor a grep for the same words finds them here.
  const needles = [["shared", "contract".toUpperCase()].join("/"), ["..", "shared"].join("/")];
  const hits = files.filter((f) => {
    let text: string;
    try {
      text = readFileSync(join(ROOT, f), "utf8");
    } catch {
      return false;
    }
    return needles.some((n) => text.includes(n));
  });
  expect(files.length).toBeGreaterThan(100);
  expect(hits).toEqual([]);
});
