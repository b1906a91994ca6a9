import { gzipSync } from "node:zlib";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import type { EventBody } from "../../src/http/events/schemas.ts";
import { type Db, rows } from "../../src/store/db.ts";
import { uid } from "./factories.ts";
import {
  type Caller,
  fillPath,
  MISSING_IDS,
  openApiName,
  PROTECTED_ROUTES,
  type ProtectedRoute,
} from "./routes.ts";

/** A request built to be refused: what it is (for a failure message) and what goes on the wire. */
export interface HostileRequest {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** A route under attack, with a valid body to spoil (when it takes one) and a caller allowed to call it. */
export interface Target {
  route: ProtectedRoute;
  caller: Caller;
  body?: () => unknown;
}

/**
 * The routes a hostile request can write through: every operation of the OpenAPI document that takes a body
 * or a path parameter, each with its row of the auth table (a valid body, the callers allowed).
 */
export function hostileTargets(
  openapi: { paths: Record<string, Record<string, { parameters?: Array<{ in: string }> }>> },
  bodies: Partial<Record<string, () => unknown>> = {},
): Target[] {
  const rowsByName = new Map(PROTECTED_ROUTES.map((r) => [openApiName(r), r]));
  const targets: Target[] = [];
  for (const [path, operations] of Object.entries(openapi.paths)) {
    if (!path.startsWith("/v1/")) continue;
    for (const [method, op] of Object.entries(operations)) {
      const upper = method.toUpperCase();
      const hasPathParam = (op.parameters ?? []).some((p) => p.in === "path");
      if (upper === "GET" && !hasPathParam) continue;
      const route = rowsByName.get(`${upper} ${path}`);
      if (!route) throw new Error(`${upper} ${path} has no row in PROTECTED_ROUTES`);
      const caller = (["admin", "reviewer", "agent", "viewer"] as const).find((c) =>
        route.allowed.includes(c),
      )!;
      targets.push({ route, caller, body: bodies[openApiName(route)] ?? route.body });
    }
  }
  return targets;
}

/**
 * Rows of every table, by table: a refused request must leave each count as it was. With `workspaceId`, tables
 * with a workspace column count that workspace's rows only and the others are left out: a test database of a
 * PostgreSQL run is shared by test files running at the same time.
 */
export async function rowCounts(db: Db, workspaceId?: string): Promise<Record<string, number>> {
  const tables = await rows<{ name: string; scoped: boolean }>(
    db,
    // partitions are counted through their parent (and new ones appear as time goes by)
    sql`select c.relname as name,
          exists (select 1 from pg_attribute a
                  where a.attrelid = c.oid and a.attname = 'workspace_id' and not a.attisdropped) as scoped
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
        order by c.relname`,
  );
  const counts: Record<string, number> = {};
  for (const { name, scoped } of tables) {
    if (workspaceId !== undefined && !scoped) continue;
    const where = workspaceId === undefined ? sql`` : sql` where workspace_id = ${workspaceId}`;
    const [row] = await rows<{ n: number }>(
      db,
      sql`select count(*)::int as n from ${sql.identifier(name)}${where}`,
    );
    counts[name] = Number(row!.n);
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------------------
// Hostile values. Each is refused wherever it lands: no field of any write route takes it.

const RAW = (n: number) => `@@raw${n}@@`;

const loneSurrogate = fc.oneof(
  fc.constantFrom("\ud800", "\udfff", "a\udc00b", "\udc00\ud800"),
  fc
    .tuple(fc.string({ maxLength: 8 }), fc.integer({ min: 0xd800, max: 0xdfff }))
    .map(([s, code]) => `${s}${String.fromCharCode(code)}`),
);
const withNul = fc
  .tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }))
  .map(([a, b]) => `${a}\u0000${b}`);
const huge = fc.integer({ min: 5_000, max: 200_000 }).map((n) => "x".repeat(n));
const hostileString = fc.oneof(loneSurrogate, withNul, huge);

const BAD_TIMESTAMPS = [
  "0000-01-01T00:00:00Z",
  "0000-12-31T23:59:59+00:00",
  "2026-06-30T23:59:60Z",
  "2026-01-19T12:00:00+24:00",
  "2026-01-19T12:00:00-99:99",
  "2026-01-19T12:00:00+0530",
  "2026-01-19T12:00:00",
  "2026-02-30T00:00:00Z",
  "2026-13-01T00:00:00Z",
  "1969-07-20T20:17:40Z",
  "+002026-01-19T12:00:00Z",
  "2026-01-19 12:00:00Z",
  `2026-01-19T12:00:00.${"9".repeat(40)}Z`,
];
const badTimestamp = fc.oneof(
  fc.constantFrom(...BAD_TIMESTAMPS),
  fc
    .record({ second: fc.integer({ min: 60, max: 99 }), hour: fc.integer({ min: 0, max: 23 }) })
    .map(({ second, hour }) => `2026-01-19T${String(hour).padStart(2, "0")}:59:${second}Z`),
  fc
    .record({ h: fc.integer({ min: 24, max: 99 }), m: fc.integer({ min: 0, max: 99 }) })
    .map(({ h, m }) => `2026-01-19T12:00:00+${h}:${String(m).padStart(2, "0")}`),
  fc.integer({ min: 1, max: 12 }).map((month) => `0000-${String(month).padStart(2, "0")}-01T00:00:00Z`),
);

const BAD_IPS = [
  "256.1.1.1",
  "1.2.3",
  "127.1",
  "01.2.3.4",
  "1.2.3.4/24",
  " 1.2.3.4",
  "::g",
  "fe80::1%eth0",
  "::1::",
];
const badIp = fc.oneof(
  fc.constantFrom(...BAD_IPS),
  fc.array(fc.integer({ min: 256, max: 999 }), { minLength: 4, maxLength: 4 }).map((o) => o.join(".")),
);

type Path = Array<string | number>;
type Json = unknown;

function leaves(value: Json, path: Path = []): Array<{ path: Path; value: Json }> {
  if (Array.isArray(value)) {
    return value.length === 0 ? [{ path, value }] : value.flatMap((v, i) => leaves(v, [...path, i]));
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    return entries.length === 0 ? [{ path, value }] : entries.flatMap(([k, v]) => leaves(v, [...path, k]));
  }
  return path.length === 0 ? [] : [{ path, value }];
}

function objects(value: Json, path: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => objects(v, [...path, i]));
  if (value !== null && typeof value === "object") {
    return [path, ...Object.entries(value).flatMap(([k, v]) => objects(v, [...path, k]))];
  }
  return [];
}

function at(value: Json, path: Path): Record<string | number, Json> {
  return path.reduce<Json>((v, k) => (v as Record<string | number, Json>)[k], value) as Record<
    string | number,
    Json
  >;
}

/** A value that is wrong for a field holding `original`, whatever the field: never its type, never null. */
function wrongFor(original: Json, path: Path): fc.Arbitrary<{ value: Json; raw?: string }> {
  const key = String(path[path.length - 1]);
  const deep = fc
    .record({ depth: fc.integer({ min: 33, max: 20_000 }), array: fc.boolean() })
    .map(({ depth, array }) => ({
      value: RAW(0),
      raw: array ? "[".repeat(depth) + "]".repeat(depth) : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`,
    }));
  const typed: fc.Arbitrary<Json>[] = [
    fc.array(fc.integer(), { minLength: 1, maxLength: 3 }),
    fc.dictionary(fc.string(), fc.integer(), { minKeys: 1, maxKeys: 2 }),
  ];
  if (typeof original !== "number") typed.push(fc.integer(), fc.double({ noNaN: true }));
  if (typeof original !== "boolean") typed.push(fc.boolean());
  if (typeof original !== "string") typed.push(fc.string({ maxLength: 10 }));
  const options: fc.Arbitrary<{ value: Json; raw?: string }>[] = [
    hostileString.map((value) => ({ value })),
    fc.oneof(...typed).map((value) => ({ value })),
    deep,
  ];
  if (/(_at|^since|^before)$/.test(key)) options.push(badTimestamp.map((value) => ({ value })));
  if (key === "ip") options.push(badIp.map((value) => ({ value })));
  return fc.oneof(...options);
}

const hostileKey: fc.Arbitrary<{ key: string; value: Json; rename?: string }> = fc.oneof(
  fc.constant({ key: "@@proto@@", value: {} as Json, rename: "__proto__" }),
  fc.constant({ key: "constructor", value: { prototype: { polluted: true } } as Json }),
  loneSurrogate.map((key) => ({ key, value: 1 as Json })),
  withNul.map((key) => ({ key, value: 1 as Json })),
  fc.string({ maxLength: 12 }).map((s) => ({ key: `x_${s}`, value: "unknown field" as Json })),
);

const BAD_CONTENT_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/json; charset=latin1",
  "application/json; charset=utf-16",
  "application/jsonx",
  "text/json",
  "*/*",
];
const BAD_ENCODINGS = ["gzip", "deflate", "br", "compress", "x-gzip", "gzip, identity", "zstd", "unknown"];
const BAD_UTF8 = [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]];
const HOSTILE_IDS = [
  "%00",
  "acc_%00",
  "%01",
  "a%0Ab",
  "%7F",
  "a%20b",
  "%C3%A9",
  "%ED%A0%80",
  "%FF",
  "%F0%9F%98%80",
  "%2E%2E",
  "..%2F..%2Fadmin",
  "x".repeat(129),
  "x".repeat(5_000),
];

const json = { "content-type": "application/json" };

/** Every way of spoiling a request to `target`: its body, its keys, its encoding, its path, its query. */
export function hostileRequest(target: Target): fc.Arbitrary<HostileRequest> {
  const { route } = target;
  const path = fillPath(route.path, MISSING_IDS);
  const base = () => (target.body ? target.body() : {});
  const req = (
    label: string,
    body: string | Uint8Array | undefined,
    headers: Record<string, string> = json,
  ) => ({
    label: `${route.method} ${route.path}: ${label}`,
    method: route.method,
    path,
    headers,
    body,
  });

  const spoiledLeaf = fc.constant(null).chain(() => {
    const body = base();
    const found = leaves(body);
    if (found.length === 0) return fc.constant(req("a non-object body", "[1,2,3]"));
    return fc.constantFrom(...found).chain((leaf) =>
      wrongFor(leaf.value, leaf.path).map(({ value, raw }) => {
        const copy = structuredClone(body);
        at(copy, leaf.path.slice(0, -1))[leaf.path[leaf.path.length - 1]!] = value;
        let text = JSON.stringify(copy);
        if (raw) text = text.replace(JSON.stringify(RAW(0)), raw);
        return req(`${leaf.path.join(".")} = ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`, text);
      }),
    );
  });

  const spoiledKey = fc.constant(null).chain(() => {
    const body = base();
    return fc.tuple(fc.constantFrom(...objects(body)), hostileKey).map(([where, k]) => {
      const copy = structuredClone(body) as Json;
      at(copy, where)[k.key] = k.value;
      let text = JSON.stringify(copy);
      if (k.rename) text = text.replace(`"${k.key}":`, `"${k.rename}":`);
      return req(`key ${JSON.stringify(k.rename ?? k.key)} at ${where.join(".") || "body"}`, text);
    });
  });

  const duplicateKey = fc.constant(null).chain(() => {
    const body = base();
    const withKeys = objects(body).filter((p) => Object.keys(at(body, p)).length > 0);
    if (withKeys.length === 0) return fc.constant(req("a duplicate key", '{"a":1,"a":2}'));
    return fc.constantFrom(...withKeys).chain((where) =>
      fc.constantFrom(...Object.keys(at(body, where))).map((key) => {
        const copy = structuredClone(body) as Json;
        at(copy, where)["@@dup@@"] = at(copy, where)[key];
        const text = JSON.stringify(copy).replace('"@@dup@@":', `${JSON.stringify(key)}:`);
        return req(`key ${key} twice at ${where.join(".") || "body"}`, text);
      }),
    );
  });

  const wholeBody = fc.oneof(
    fc.constantFrom("null", "true", "42", '"text"', "[]", "[{}]").map((text) => req(`body ${text}`, text)),
    fc.integer({ min: 1, max: 1_000 }).map((cut) => {
      const text = JSON.stringify(base());
      return req(`truncated at ${cut}`, text.slice(0, Math.max(0, text.length - cut)) || "{");
    }),
    fc.constantFrom(...BAD_UTF8).map((bytes) => {
      const text = JSON.stringify({ ...(base() as object), x_bytes: RAW(0) });
      const [before, after] = text.split(RAW(0));
      return req(
        `bytes ${bytes.map((b) => b.toString(16)).join(" ")} in a string`,
        new Uint8Array(Buffer.concat([Buffer.from(before!), Buffer.from(bytes), Buffer.from(after!)])),
      );
    }),
    fc
      .constantFrom(...BAD_CONTENT_TYPES)
      .map((type) => req(`Content-Type ${type}`, JSON.stringify(base()), { "content-type": type })),
    fc.constant(null).map(() => req("a body without Content-Type", JSON.stringify(base()), {})),
    fc.constantFrom(...BAD_ENCODINGS).map((encoding) =>
      req(`Content-Encoding ${encoding}`, new Uint8Array(gzipSync(JSON.stringify(base()))), {
        ...json,
        "content-encoding": encoding,
      }),
    ),
    fc
      .integer({ min: 33, max: 100_000 })
      .map((depth) => req(`body nested ${depth} deep`, "[".repeat(depth) + "]".repeat(depth))),
  );

  const query = fc
    .tuple(
      fc.constantFrom("limit", "cursor", "x", "since", "%00"),
      fc.constantFrom("%00", "a%00b", "%0A", "%1F", "%7F"),
    )
    .map(([key, value]) => ({
      ...req(`query ${key}=${value}`, target.body ? JSON.stringify(base()) : undefined),
      path: `${path}?${key}=${value}`,
    }));

  const options: fc.Arbitrary<HostileRequest>[] = [query];
  if (route.method !== "GET") options.push(wholeBody);
  if (target.body) options.push(spoiledLeaf, spoiledLeaf, spoiledKey, duplicateKey);
  if (route.path.includes(":")) {
    options.push(
      fc.constantFrom(...HOSTILE_IDS).map((id) => ({
        ...req(
          `id ${id.length > 20 ? `${id.slice(0, 20)}…` : id}`,
          target.body ? JSON.stringify(base()) : undefined,
        ),
        path: route.path
          .replace(/:(alert|account|environment|token|incident)\b/, id)
          .replace(/:(\w+)/g, (_, n: string) => MISSING_IDS[n as keyof typeof MISSING_IDS]),
      })),
    );
  }
  return fc.oneof(...options);
}

/** Why an answer is not a proper refusal (a 4xx with the one error envelope), or null when it is one. */
export function notARefusal(status: number, text: string): string | null {
  if (status < 400 || status >= 500) return `status ${status}: ${text.slice(0, 300)}`;
  let body: { error?: Record<string, unknown> };
  try {
    body = JSON.parse(text);
  } catch {
    return `status ${status} without a JSON body: ${text.slice(0, 300)}`;
  }
  const e = body.error;
  if (!e || typeof e.code !== "string" || typeof e.message !== "string" || typeof e.request_id !== "string") {
    return `status ${status} without the error envelope: ${text.slice(0, 300)}`;
  }
  const extra = Object.keys(body).filter((k) => k !== "error");
  if (extra.length > 0) return `status ${status} with fields beside the envelope: ${extra.join(", ")}`;
  return null;
}

/**
 * The largest batch the contract allows, as an agent's JSON.stringify writes it: 1000 events, every string at
 * its longest in the widest characters its field admits, 4 KiB of attributes each.
 */
export function largestLegalBatch(occurredAt = "2026-01-19T12:00:00"): { events: EventBody[] } {
  const wide = (prefix: string, n: number) => prefix + "\u4e2d".repeat(n - prefix.length);
  const escaped = (n: number) => "\u001f".repeat(n);
  const ref = wide(uid("r-"), 128);
  const pad = "x".repeat(4096 - JSON.stringify({ pad: "" }).length);
  return {
    events: Array.from({ length: 1000 }, (_, i) => ({
      id: wide(`ev-${i}-${uid()}-`, 128),
      type: "operation" as const,
      occurred_at: `${occurredAt}.${"1".repeat(40 - occurredAt.length - 2)}Z`,
      account: { platform: "a".repeat(32), ref },
      operator: wide("op-", 128),
      operation: "a".repeat(64),
      result: { status: "error" as const, code: "a".repeat(64), http_status: 599, message: escaped(1024) },
      env: {
        ip: "0000:0000:0000:0000:0000:ffff:255.255.255.255",
        device_id: wide("d-", 256),
        user_agent: escaped(2048),
        timezone: "America/Argentina/ComodRivadavia",
        locale: "abc-abcdefgh-abcdefgh-abcdefgh-abcd",
        profile: wide("p-", 128),
      },
      attributes: { pad },
    })),
  };
}
