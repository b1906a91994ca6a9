import { randomBytes } from "node:crypto";
import type { EventBody } from "../../src/http/events/schemas.ts";
import type { Database } from "../../src/store/db.ts";
import { createWorkspace, issueToken, loadPepper } from "../../src/store/tenancy.ts";
import type { Client } from "./api.ts";

export const uid = (prefix = "") => `${prefix}${randomBytes(6).toString("hex")}`;

export interface Workspace {
  id: string;
  admin: string;
  reviewer: string;
  viewer: string;
}

/** A workspace of its own for each test, with a token of every user role. */
export async function newWorkspace(
  database: Database,
  now = new Date("2026-01-01T00:00:00Z"),
): Promise<Workspace> {
  const ws = await createWorkspace(database.db, { slug: uid("ws-") }, now);
  // The pepper the apps of the tests use: none sets TETHER_TOKEN_PEPPER, so each reads the database's.
  const pepper = await loadPepper(database.db, undefined);
  const token = async (role: "admin" | "reviewer" | "viewer") =>
    (
      await issueToken(
        database.db,
        { workspaceId: ws.id, kind: "user", role, name: `${role} test` },
        pepper,
        now,
      )
    ).secret;
  return {
    id: ws.id,
    admin: await token("admin"),
    reviewer: await token("reviewer"),
    viewer: await token("viewer"),
  };
}

/** An environment with its agent token, made through the admin API. */
export async function newEnvironment(api: Client, admin: string, accountIds: string[] = []) {
  const res = await api.post("/v1/environments", admin, { name: uid("env-"), account_ids: accountIds });
  if (res.status !== 201) throw new Error(`environment: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.environment.id as string, token: res.body.token as string };
}

export const CHROME_120_WIN =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
export const CHROME_121_WIN =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.6167.85 Safari/537.36";
export const FIREFOX_MAC =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:121.0) Gecko/20100101 Firefox/121.0";

/** Real addresses whose offline geolocation and ASN the tests rely on (see docs/enrichment.md). */
export const IP = {
  /** Comcast AS7922, San Pablo, US-CA */
  home: "73.15.20.1",
  /** same /24 and ASN as home: a residential renewal */
  homeRenewed: "73.15.20.99",
  homeRenewed2: "73.15.20.142",
  /** Cox AS22773, Irvine, US-CA: same region and timezone, another network */
  otherNetwork: "68.4.2.1",
  /** Comcast AS7922, San Jose, US-CA: same network, another subnet */
  sameNetworkOtherSubnet: "76.102.5.5",
  /**
   * SAKURA Internet AS9370, Tokyo, JP-13 in both the 2023 and the 2026 GeoLite2 data (133.242.1.1, used
   * before, is only "JP" in 2026)
   */
  tokyo: "160.16.1.1",
  /** Amazon AS14618, Ashburn, US-VA */
  virginia: "23.20.1.1",
  /** Hetzner AS24940, DE */
  germany: "5.9.1.1",
} as const;

export const LA = { timezone: "America/Los_Angeles", locale: "en-US", user_agent: CHROME_120_WIN } as const;

/** An event with a unique id; `at` is when it occurred. */
export function event(
  at: Date | string | number,
  overrides: Partial<EventBody> & { ref?: string; platform?: string } = {},
): EventBody {
  const { ref, platform, ...rest } = overrides;
  return {
    id: uid("ev-"),
    type: "login",
    occurred_at: new Date(at).toISOString(),
    account: { platform: platform ?? "tiktok_shop", ref: ref ?? "store-1" },
    env: { ip: IP.home, device_id: "dev-1", ...LA },
    ...rest,
  };
}

export const HOUR = 3_600_000;
export const MINUTE = 60_000;
