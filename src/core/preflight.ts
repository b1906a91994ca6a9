import type { FindingText } from "./finding-text.ts";
import type { EventVerdict, Settings, Severity } from "./model.ts";
import { severityRank } from "./model.ts";

export type Decision = "allow" | "warn" | "deny";

export interface Reason {
  rule: string;
  severity: Severity;
  message: string;
  /** the reason's sentence, to render in the reader's language */
  text?: FindingText;
}

/**
 * What preflight refuses outright: acting on these turns an outage into linked accounts and frozen funds. The
 * improvised switch (an IP, network or device outside the baseline during the platform's incident) is the one
 * tether exists to stop.
 */
const DENY = new Set([
  "sensitive_op_during_incident",
  "incident_network_switch",
  "pin_violation",
  "shared_device",
  "shared_ip",
]);

/**
 * allow / warn / deny from the findings the would-be event raises: deny what must never happen (and a login
 * in a retry storm), warn on anything worth an alert, allow the rest.
 */
export function decide(
  findings: EventVerdict["findings"],
  isLogin: boolean,
  settings: Settings,
): { decision: Decision; reasons: Reason[] } {
  const reasons = findings.filter(
    (f) =>
      DENY.has(f.rule) ||
      (f.rule === "retry_storm" && isLogin) ||
      severityRank(f.severity) >= severityRank(settings.alertMinSeverity),
  );
  const decision: Decision = reasons.some((f) => DENY.has(f.rule) || f.rule === "retry_storm")
    ? "deny"
    : reasons.length > 0
      ? "warn"
      : "allow";
  return { decision, reasons };
}
