/**
 * What tether sends to each kind of channel: the request (URL, headers, body) for one grouped message, in the
 * channel's language. Pure: the deliverer supplies the alerts already put into words, the time and the secret.
 */

import { type Lang, translator } from "../../i18n/index.ts";
import type { Severity } from "../model.ts";
import { dingtalkSign, feishuSign, webhookSignature } from "./sign.ts";

export type ChannelKind = "webhook" | "dingtalk" | "feishu" | "wecom" | "slack" | "pagerduty";
export type NoticeEvent =
  | "alert.created"
  | "alert.acknowledged"
  | "alert.resolved"
  | "alert.dismissed"
  | "test";

/** The status an action leads to → the event its message reports. */
export const STATUS_EVENTS = {
  acknowledged: "alert.acknowledged",
  resolved: "alert.resolved",
  dismissed: "alert.dismissed",
} as const satisfies Record<string, NoticeEvent>;

export interface NoticeAlert {
  id: string;
  rule: string;
  severity: Severity;
  status: string;
  /** the finding's sentence in the channel's language, accounts as `platform/ref` */
  sentence: string;
  /** `platform/ref` of each account */
  accounts: string[];
  incidentId: string | null;
  incidentTitle: string | null;
}

export interface Notice {
  /** the outbox row's id (a test message has its own): receivers deduplicate on it */
  id: string;
  event: NoticeEvent;
  workspace: string;
  /** the incident or account the alerts are grouped under; PagerDuty's dedup_key */
  groupKey: string;
  alerts: NoticeAlert[];
}

export interface Channel {
  kind: ChannelKind;
  url: string;
  secret: string | null;
  language: Lang;
}

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Lines beyond this are summarised as "and N more": group robots cut long messages. */
const MAX_LINES = 10;
const SEVERITY_ORDER: Severity[] = ["info", "low", "medium", "high", "critical"];

export const worstSeverity = (alerts: NoticeAlert[]): Severity =>
  alerts.reduce<Severity>(
    (worst, a) => (SEVERITY_ORDER.indexOf(a.severity) > SEVERITY_ORDER.indexOf(worst) ? a.severity : worst),
    "info",
  );

/** PagerDuty's four severities. */
export const PAGERDUTY_SEVERITY: Record<Severity, "critical" | "error" | "warning" | "info"> = {
  critical: "critical",
  high: "error",
  medium: "warning",
  low: "info",
  info: "info",
};

const PAGERDUTY_ACTION: Record<NoticeEvent, "trigger" | "acknowledge" | "resolve"> = {
  "alert.created": "trigger",
  test: "trigger",
  "alert.acknowledged": "acknowledge",
  "alert.resolved": "resolve",
  "alert.dismissed": "resolve",
};

/** The message in words: a title and its lines. */
export function noticeText(notice: Notice, lang: Lang): { title: string; lines: string[] } {
  const t = translator(lang);
  const count = notice.alerts.length;
  if (notice.event === "test") {
    return { title: t("notify.title_test"), lines: [t("notify.test_body", { workspace: notice.workspace })] };
  }
  const severity = t(`notify.severity.${worstSeverity(notice.alerts)}`);
  const title =
    notice.event === "alert.created"
      ? t("notify.title_created", { count, severity })
      : t(
          `notify.title_${notice.event.slice("alert.".length) as "acknowledged" | "resolved" | "dismissed"}`,
          {
            count,
          },
        );
  const incident = notice.alerts.find((a) => a.incidentId);
  const lines = [
    ...(incident ? [t("notify.incident", { incident: incident.incidentTitle ?? incident.incidentId! })] : []),
    ...notice.alerts.slice(0, MAX_LINES).map((a) =>
      t("notify.line", {
        severity: t(`notify.severity.${a.severity}`),
        sentence: a.sentence,
        accounts: a.accounts.join(", "),
      }),
    ),
    ...(count > MAX_LINES ? [t("notify.more", { count: count - MAX_LINES })] : []),
    t("notify.footer", { workspace: notice.workspace }),
  ];
  return { title, lines };
}

const withQuery = (url: string, params: Record<string, string>) => {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
};

const JSON_HEADERS = { "content-type": "application/json" };

/** The request that carries `notice` to `channel` at `now`. */
export function buildRequest(channel: Channel, notice: Notice, now: Date): OutgoingRequest {
  const { title, lines } = noticeText(notice, channel.language);
  const plain = `${title}\n${lines.join("\n")}`;
  const markdown = `### ${title}\n\n${lines.map((l) => `- ${l}`).join("\n")}`;
  const seconds = Math.floor(now.getTime() / 1000);
  switch (channel.kind) {
    case "webhook": {
      const body = JSON.stringify({
        type: notice.event,
        timestamp: now.toISOString(),
        data: {
          workspace: notice.workspace,
          group_key: notice.groupKey,
          title,
          alerts: notice.alerts.map((a) => ({
            id: a.id,
            rule: a.rule,
            severity: a.severity,
            status: a.status,
            text: a.sentence,
            accounts: a.accounts,
            incident_id: a.incidentId,
          })),
        },
      });
      return {
        url: channel.url,
        headers: {
          ...JSON_HEADERS,
          "webhook-id": notice.id,
          "webhook-timestamp": String(seconds),
          "webhook-signature": webhookSignature(channel.secret ?? "", notice.id, seconds, body),
        },
        body,
      };
    }
    case "dingtalk": {
      const ms = now.getTime();
      const url = channel.secret
        ? withQuery(channel.url, { timestamp: String(ms), sign: dingtalkSign(channel.secret, ms) })
        : channel.url;
      return {
        url,
        headers: JSON_HEADERS,
        body: JSON.stringify({ msgtype: "markdown", markdown: { title, text: markdown } }),
      };
    }
    case "feishu": {
      const signed = channel.secret
        ? { timestamp: String(seconds), sign: feishuSign(channel.secret, seconds) }
        : {};
      return {
        url: channel.url,
        headers: JSON_HEADERS,
        body: JSON.stringify({ ...signed, msg_type: "text", content: { text: plain } }),
      };
    }
    case "wecom":
      return {
        url: channel.url,
        headers: JSON_HEADERS,
        body: JSON.stringify({ msgtype: "markdown", markdown: { content: markdown } }),
      };
    case "slack":
      return {
        url: channel.url,
        headers: JSON_HEADERS,
        body: JSON.stringify({ text: `*${title}*\n${lines.join("\n")}` }),
      };
    case "pagerduty": {
      const action = PAGERDUTY_ACTION[notice.event];
      const dedupKey = `tether:${notice.groupKey}`;
      const body =
        action === "trigger"
          ? {
              routing_key: channel.secret,
              event_action: action,
              dedup_key: notice.event === "test" ? `tether:test:${notice.id}` : dedupKey,
              payload: {
                summary: `${title}: ${lines.slice(0, 2).join(" · ")}`.slice(0, 1024),
                source: "tether",
                severity: notice.event === "test" ? "info" : PAGERDUTY_SEVERITY[worstSeverity(notice.alerts)],
                custom_details: { workspace: notice.workspace, lines },
              },
            }
          : { routing_key: channel.secret, event_action: action, dedup_key: dedupKey };
      return { url: channel.url, headers: JSON_HEADERS, body: JSON.stringify(body) };
    }
  }
}
