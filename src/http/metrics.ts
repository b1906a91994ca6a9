import { Counter, Histogram, Registry } from "prom-client";

/** Prometheus metrics of one app; labels never carry account ids or other unbounded values. */
export function createMetrics() {
  const registry = new Registry();
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
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
