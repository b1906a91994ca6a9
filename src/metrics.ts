import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DatasetInfo } from "./core/enrich/types.ts";
import { SEVERITIES } from "./core/model.ts";

export const INCIDENT_SOURCES = ["declared", "detected"] as const;

/** Prometheus metrics of one app; labels never carry account ids or other unbounded values. */
export function createMetrics() {
  const registry = new Registry();
  const alertsOpen = new Gauge({
    name: "tether_alerts_open",
    help: "Alerts with status open, across all workspaces, by severity (read from the database at scrape time)",
    labelNames: ["severity"],
    registers: [registry],
  });
  const incidentsActive = new Gauge({
    name: "tether_incidents_active",
    help: "Active platform incidents (drills excluded), across all workspaces, by source: declared or detected (read from the database at scrape time)",
    labelNames: ["source"],
    registers: [registry],
  });
  const drillsActive = new Gauge({
    name: "tether_drills_active",
    help: "Fault drills in progress (incidents marked as drills; not counted in tether_incidents_active), across all workspaces",
    registers: [registry],
  });
  const enrichmentDataAge = new Gauge({
    name: "tether_enrichment_data_age_seconds",
    help: "Seconds since the offline IP data was built, by dataset: geo (geolocation) or asn; refresh with npm run data:refresh",
    labelNames: ["dataset"],
    registers: [registry],
  });
  return {
    registry,
    httpRequests: new Histogram({
      name: "tether_http_request_duration_seconds",
      help: "HTTP request latency by route and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    eventsAccepted: new Counter({
      name: "tether_events_accepted_total",
      help: "Events stored",
      registers: [registry],
    }),
    eventsDuplicate: new Counter({
      name: "tether_events_duplicate_total",
      help: "Events answered from a previous delivery (idempotent retries)",
      registers: [registry],
    }),
    findings: new Counter({
      name: "tether_findings_total",
      help: "Rule findings by rule",
      labelNames: ["rule"],
      registers: [registry],
    }),
    ruleErrors: new Counter({
      name: "tether_rule_errors_total",
      help: "Rule evaluations that threw; the rule was skipped for that event",
      labelNames: ["rule"],
      registers: [registry],
    }),
    ingestBatchEvents: new Histogram({
      name: "tether_ingest_batch_events",
      help: "Events per ingest transaction (the requests coalesced into one group commit)",
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers: [registry],
    }),
    ingestBatchRequests: new Histogram({
      name: "tether_ingest_batch_requests",
      help: "Requests per ingest transaction",
      buckets: [1, 2, 5, 10, 25, 50, 100],
      registers: [registry],
    }),
    ingestCommitSeconds: new Histogram({
      name: "tether_ingest_commit_duration_seconds",
      help: "Seconds to judge and store one ingest group, from taking it off the queue to its answers (queue wait excluded)",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    ingestQueueEvents: new Gauge({
      name: "tether_ingest_queue_events",
      help: "Events waiting for the next ingest transaction",
      registers: [registry],
    }),
    ingestRejected: new Counter({
      name: "tether_ingest_rejected_total",
      help: "Ingest requests answered 503 because the queue was full",
      registers: [registry],
    }),
    // A series appears with a channel kind's first delivery attempt.
    notificationDeliveries: new Counter({
      name: "tether_notification_deliveries_total",
      help: "Notification delivery attempts, by channel kind and outcome (delivered, retry: to be tried again, failed: given up)",
      labelNames: ["channel", "outcome"],
      registers: [registry],
    }),
    /** Ages the enricher's data sets at `now` (a scrape). */
    setEnrichmentData(datasets: readonly DatasetInfo[], now: Date) {
      for (const d of datasets) {
        enrichmentDataAge.set({ dataset: d.dataset }, (now.getTime() - d.builtAt.getTime()) / 1000);
      }
    },
    alertsOpen,
    incidentsActive,
    drillsActive,
    /** Sets the database gauges from one reading; every severity and source gets a series, zeros included. */
    setWorkload(counts: WorkloadCounts) {
      for (const severity of SEVERITIES) alertsOpen.set({ severity }, counts.openAlerts[severity] ?? 0);
      for (const source of INCIDENT_SOURCES)
        incidentsActive.set({ source }, counts.activeIncidents[source] ?? 0);
      drillsActive.set(counts.activeDrills);
    },
    /** The database could not be read: no series rather than stale numbers. */
    clearWorkload() {
      alertsOpen.reset();
      incidentsActive.reset();
      drillsActive.reset();
    },
  };
}

/** What the database gauges show, as read at one scrape. */
export interface WorkloadCounts {
  openAlerts: Partial<Record<string, number>>;
  activeIncidents: Partial<Record<string, number>>;
  activeDrills: number;
}

export type Metrics = ReturnType<typeof createMetrics>;
