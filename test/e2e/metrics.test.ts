import { spawnSync } from "node:child_process";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { ManualClock, systemClock } from "../../src/clock.ts";
import { SEVERITIES } from "../../src/core/model.ts";
import { defaultEnv } from "../../src/env.ts";
import { WORKLOAD_TTL_MS } from "../../src/http/system/workload.ts";
import { createMetrics } from "../../src/metrics.ts";
import { type Database, openPostgres } from "../../src/store/db.ts";
import { client } from "../support/api.ts";
import { event, IP, newEnvironment, newWorkspace, uid } from "../support/factories.ts";
import { openTestDatabase, sharedEnricher } from "../support/harness.ts";
import { freePort, scratchPostgres } from "../support/server.ts";

/**
 * The database gauges count across every workspace, so this file owns its database: on PostgreSQL runs a
 * scratch database of its own (the run's shared one has other files writing alerts at the same time), on
 * PGlite the per-file copy every test file gets anyway.
 */
let database: Database;
let dropScratch: (() => Promise<void>) | undefined;
let app: App;
const clock = new ManualClock("2026-01-20T00:00:00Z");
const PAST = Date.parse("2026-01-19T12:00:00Z");

beforeAll(async () => {
  const scratch = await scratchPostgres();
  if (scratch) {
    database = openPostgres(scratch.url, { max: 4 });
    await database.migrate();
    dropScratch = () => scratch.drop();
  } else {
    database = await openTestDatabase();
  }
  app = createApp({
    database,
    env: defaultEnv(),
    clock,
    logger: pino({ level: "silent" }),
    enricher: await sharedEnricher(),
    metrics: createMetrics(),
  });
});
afterAll(async () => {
  await database?.close();
  await dropScratch?.();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a text exposition; `# HELP` and `# TYPE` lines are read apart. */
function parse(text: string) {
  const samples: Sample[] = [];
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  for (const line of text.split("\n")) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) (meta[1] === "HELP" ? help : type).set(meta[2]!, meta[3]!);
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) continue;
    const labels = Object.fromEntries(
      [...(sample[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
  }
  return { samples, help, type };
}

async function scrape(target: App = app) {
  const res = await target.request("/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, ...parse(text) };
}

/** One sample's value; a series that is not there fails the test. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}) {
  const found = samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (!found) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
  return found.value;
}

/** A workspace with an agent, an account that has reported, an open alert and a declared incident. */
async function populate() {
  const api = client(app);
  const ws = await newWorkspace(database);
  const agent = await newEnvironment(api, ws.admin);
  const ref = uid("store-");
  // A device clock in Shanghai behind a Californian IP is flagged from the first event: an open alert.
  const sent = await api.post(
    "/v1/events",
    agent.token,
    event(PAST, { ref, env: { ip: IP.home, device_id: uid("dev-"), timezone: "Asia/Shanghai" } }),
  );
  expect(sent.status).toBe(202);
  const incident = await api.post("/v1/incidents", ws.reviewer, { platform: "tiktok_shop", title: "outage" });
  expect(incident.status).toBe(201);
  return { api, ws, agent, ref, accountId: sent.body.results[0].account_id as string };
}

const promtool = spawnSync("promtool", ["--version"]).status === 0;

describe("/metrics", () => {
  it.skipIf(!promtool)(
    "passes promtool check metrics on a real scrape (skipped only where promtool is not installed)",
    async () => {
      await populate();
      clock.advance(WORKLOAD_TTL_MS);
      const { text } = await scrape();
      const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
      expect(`${check.stdout}${check.stderr}`).toBe("");
      expect(check.status).toBe(0);
    },
  );

  it("gives every metric HELP and TYPE, names counters _total, and labels nothing unbounded", async () => {
    const { accountId, ref } = await populate();
    const { text, samples, help, type } = await scrape();
    const families = new Set([...help.keys(), ...type.keys()]);
    for (const family of families) {
      expect(help.get(family), family).toMatch(/\w/);
      expect(type.get(family), family).toMatch(/^(counter|gauge|histogram|summary)$/);
      expect(family, family).toMatch(/^tether_[a-z_]+$/);
      expect(family.endsWith("_total"), family).toBe(type.get(family) === "counter");
    }
    for (const name of [
      "tether_alerts_open",
      "tether_incidents_active",
      "tether_drills_active",
      "tether_notification_deliveries_total",
      "tether_ingest_queue_events",
      "tether_ingest_commit_duration_seconds",
    ])
      expect(families, name).toContain(name);
    const allowed = new Set([
      "method",
      "route",
      "status",
      "rule",
      "severity",
      "source",
      "channel",
      "outcome",
      "dataset",
      "le",
    ]);
    for (const s of samples)
      for (const label of Object.keys(s.labels)) expect(allowed, label).toContain(label);
    expect(text).not.toContain(accountId);
    expect(text).not.toContain(ref);
    expect(text).not.toContain(IP.home);
  });

  it("gives the age of each IP data set, in seconds from its build date to the scrape", async () => {
    const { samples, type } = await scrape();
    expect(type.get("tether_enrichment_data_age_seconds")).toBe("gauge");
    const datasets = (await sharedEnricher()).datasets;
    expect(datasets.map((d) => d.dataset).sort()).toEqual(["asn", "geo"]);
    for (const d of datasets) {
      const age = value(samples, "tether_enrichment_data_age_seconds", { dataset: d.dataset });
      expect(age, d.dataset).toBe((clock.now().getTime() - d.builtAt.getTime()) / 1000);
    }
    clock.advance(86_400_000);
    const later = (await scrape()).samples;
    const geo = datasets.find((d) => d.dataset === "geo")!;
    expect(value(later, "tether_enrichment_data_age_seconds", { dataset: "geo" })).toBe(
      (clock.now().getTime() - geo.builtAt.getTime()) / 1000,
    );
  });

  it("has no notification delivery series until notifications are sent", async () => {
    const { samples, type } = await scrape();
    expect(type.get("tether_notification_deliveries_total")).toBe("counter");
    expect(samples.filter((s) => s.name === "tether_notification_deliveries_total")).toEqual([]);
  });

  it("counts ingested events, duplicates, groups and their commit time", async () => {
    const api = client(app);
    const ws = await newWorkspace(database);
    const agent = await newEnvironment(api, ws.admin);
    const before = (await scrape()).samples;
    const batch = [event(PAST, { ref: uid("s-") }), event(PAST + 1_000, { ref: uid("s-") })];
    expect((await api.post("/v1/events", agent.token, { events: batch })).status).toBe(202);
    const again = await api.post("/v1/events", agent.token, { events: [batch[0], event(PAST + 2_000)] });
    expect(again.body).toMatchObject({ accepted: 1, duplicates: 1 });
    const after = (await scrape()).samples;
    const moved = (name: string) => value(after, name) - value(before, name);
    expect(moved("tether_events_accepted_total")).toBe(3);
    expect(moved("tether_events_duplicate_total")).toBe(1);
    // each request was answered before the next was sent: two groups of two events
    expect(moved("tether_ingest_commit_duration_seconds_count")).toBe(2);
    expect(moved("tether_ingest_commit_duration_seconds_sum")).toBeGreaterThan(0);
    expect(moved("tether_ingest_batch_events_sum")).toBe(4);
    expect(value(after, "tether_ingest_queue_events")).toBe(0);
  });

  it("counts open alerts by severity, active incidents by source and active drills, reading the database at most every few seconds", async () => {
    clock.advance(WORKLOAD_TTL_MS);
    const before = (await scrape()).samples;
    for (const severity of SEVERITIES) value(before, "tether_alerts_open", { severity });
    for (const source of ["declared", "detected"]) value(before, "tether_incidents_active", { source });

    const { api, ws, accountId } = await populate();
    // A drill is counted as a drill, not as a platform incident.
    const drill = await api.post("/v1/drills", ws.reviewer, { platform: "amazon", planned_minutes: 60 });
    expect(drill.status).toBe(201);
    const open = await api.get(`/v1/alerts?account_id=${accountId}&status=open`, ws.viewer);
    expect(open.body.alerts.length).toBeGreaterThan(0);
    const bySeverity = (severity: string) =>
      open.body.alerts.filter((a: { severity: string }) => a.severity === severity).length;

    // within the cache's lifetime a scrape does not ask the database again
    expect((await scrape()).samples).toEqual(
      expect.arrayContaining(before.filter((s) => s.name.startsWith("tether_alerts_open"))),
    );

    clock.advance(WORKLOAD_TTL_MS);
    const after = (await scrape()).samples;
    for (const severity of SEVERITIES) {
      const moved =
        value(after, "tether_alerts_open", { severity }) - value(before, "tether_alerts_open", { severity });
      expect(moved, severity).toBe(bySeverity(severity));
    }
    const incidents = (s: Sample[], source: string) => value(s, "tether_incidents_active", { source });
    expect(incidents(after, "declared") - incidents(before, "declared")).toBe(1);
    expect(incidents(after, "detected")).toBe(incidents(before, "detected"));
    expect(value(after, "tether_drills_active") - value(before, "tether_drills_active")).toBe(1);

    // acknowledged is no longer open; a closed incident is no longer active
    for (const alert of open.body.alerts)
      expect((await api.post(`/v1/alerts/${alert.id}/acknowledge`, ws.reviewer)).status).toBe(200);
    const active = await api.get("/v1/incidents?status=active", ws.viewer);
    for (const incident of active.body.incidents)
      expect((await api.post(`/v1/incidents/${incident.id}/close`, ws.reviewer)).status).toBe(200);
    clock.advance(WORKLOAD_TTL_MS);
    const settled = (await scrape()).samples;
    for (const severity of SEVERITIES)
      expect(value(settled, "tether_alerts_open", { severity }), severity).toBe(
        value(before, "tether_alerts_open", { severity }),
      );
    expect(incidents(settled, "declared")).toBe(incidents(before, "declared"));
    expect(value(settled, "tether_drills_active")).toBe(value(before, "tether_drills_active"));
  });

  it("still answers, without the database gauges, while the database is away", async () => {
    // nothing listens on a port just found free: each connection attempt is refused
    const away = openPostgres(`postgres://postgres@127.0.0.1:${await freePort()}/tether`, { max: 1 });
    try {
      const lonely = createApp({
        database: away,
        env: defaultEnv(),
        clock: systemClock,
        logger: pino({ level: "silent" }),
        enricher: await sharedEnricher(),
        metrics: createMetrics(),
      });
      const { samples, type } = await scrape(lonely);
      expect(type.get("tether_alerts_open")).toBe("gauge");
      expect(samples.filter((s) => s.name === "tether_alerts_open")).toEqual([]);
      expect(samples.filter((s) => s.name === "tether_incidents_active")).toEqual([]);
      expect(value(samples, "tether_events_accepted_total")).toBe(0);
    } finally {
      await away.close();
    }
  });
});
