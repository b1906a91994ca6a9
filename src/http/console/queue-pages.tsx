/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The case queue, a case's page and the actions on a whole case. */
import type { Context, Hono } from "hono";
import { z } from "zod";
import type { Case } from "../../core/cases.ts";
import { SEVERITIES } from "../../core/model.ts";
import { type AlertAction, actOnAlerts } from "../../services/act-on-alerts.ts";
import { accountEvents } from "../../store/accounts.ts";
import type { AlertRow } from "../../store/alerts.ts";
import { listLinks } from "../../store/associations.ts";
import { listAudit } from "../../store/audit.ts";
import type { AccountName } from "../../store/cases.ts";
import { listIncidents } from "../../store/incidents.ts";
import { severityRank } from "../../ui/accounts.tsx";
import { type RelatedLine, risksOf } from "../../ui/case-parts.tsx";
import {
  type AuditLine,
  accountText,
  CASE_STATUSES,
  CasePage,
  type EventLine,
  type IncidentGroup,
  incidentName,
  QueuePage,
  RULES,
} from "../../ui/pages.tsx";
import { type ConsoleEnv, type ConsoleKit, eventRow, linkWith, PAGE_SIZE, send } from "./kit.tsx";

/** How many events of each account a case shows, and how long after its last finding they may be. */
const CASE_EVENTS = 6;
const CASE_EVENTS_AFTER_MS = 10 * 60_000;
/** How many related accounts a case lists at most. */
const RELATED_LINKS = 50;
/** How many cases a CSV export holds at most (the queue reads the newest 5,000 findings anyway). */
const CSV_MAX = 10_000;

const QueueQuery = z.object({
  status: z.enum(CASE_STATUSES).optional(),
  severity: z.enum(SEVERITIES).optional(),
  rule: z.enum(RULES).optional(),
  platform: z.string().max(64).optional(),
  group: z.string().max(128).optional(),
  account: z.string().max(200).optional(),
  incident: z.string().max(128).optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
});

const ActForm = z.object({
  _csrf: z.string().max(200),
  action: z.enum(["acknowledge", "resolve", "dismiss", "trust"]),
  note: z.string().max(2000).optional(),
  verdict: z.enum(["", "actionable", "false_positive"]).optional(),
});

export function queuePages(router: Hono<ConsoleEnv>, kit: ConsoleKit) {
  const { db, deps, frame, fail, query, loadCases } = kit;

  router.get("/", async (c) => {
    const parsed = await query(c, QueueQuery);
    if (parsed.response) return parsed.response;
    const q = parsed.data;
    const auth = c.get("auth");
    const [{ cases, names }, recent] = await Promise.all([
      loadCases(auth.workspaceId),
      listIncidents(db, auth.workspaceId, undefined, 20, null),
    ]);
    const matched = cases.filter((k) => matches(k, q, names));
    // During an outage its cases would bury everything else: unless the queue is filtered by incident, the cases
    // raised under an active incident fold into one line per incident, which opens them.
    const active = new Map(recent.filter((i) => i.status === "active").map((i) => [i.id, i]));
    const folded = q.incident ? [] : matched.filter((k) => k.incidentId && active.has(k.incidentId));
    const listed = folded.length === 0 ? matched : matched.filter((k) => !folded.includes(k));
    const groups: IncidentGroup[] = [...active.values()]
      .map((i) => {
        const mine = folded.filter((k) => k.incidentId === i.id);
        return {
          id: i.id,
          title: incidentName(i),
          cases: mine.length,
          accounts: new Set(mine.flatMap((k) => k.accountIds)).size,
          severity: mine.reduce<string | null>(
            (worst, k) =>
              worst === null || severityRank(k.severity) > severityRank(worst) ? k.severity : worst,
            null,
          ),
        };
      })
      .filter((g) => g.cases > 0);
    const link = linkWith("/console", { ...q, page: undefined });
    return send(
      c,
      <QueuePage
        {...(await frame(c))}
        cases={listed.slice((q.page - 1) * PAGE_SIZE, q.page * PAGE_SIZE)}
        groups={q.page === 1 ? groups : []}
        newest={cases[0]?.id ?? null}
        total={matched.length}
        page={q.page}
        pages={Math.ceil(listed.length / PAGE_SIZE)}
        filter={q}
        platforms={[...new Set([...names.values()].map((a) => a.platform))].sort()}
        groupNames={[...new Set([...names.values()].map((a) => a.group).filter((g) => g !== null))].sort()}
        incidents={recent.map((i) => ({ id: i.id, title: incidentName(i) }))}
        names={names}
        query={link}
        csv={linkWith("/console/cases.csv", { ...q, page: undefined })({})}
      />,
    );
  });

  // What the queue's filters select, all of it (not one page), for a spreadsheet: UTF-8 with a BOM so that
  // spreadsheet programs read Chinese refs, and cells that would start a formula defused.
  router.get("/cases.csv", async (c) => {
    const parsed = await query(c, QueueQuery);
    if (parsed.response) return parsed.response;
    const t = c.get("t");
    const { cases, names } = await loadCases(c.get("auth").workspaceId);
    const matched = cases.filter((k) => matches(k, parsed.data, names)).slice(0, CSV_MAX);
    const titles = new Map(
      (await listIncidents(db, c.get("auth").workspaceId, undefined, 200, null)).map((i) => [
        i.id,
        incidentName(i),
      ]),
    );
    const header = [
      t("csv.case"),
      t("col.severity"),
      t("col.status"),
      t("col.account"),
      t("accounts.group"),
      t("col.findings"),
      t("csv.first_seen"),
      t("csv.last_seen"),
      t("filter.incident"),
      t("csv.link"),
    ];
    const origin = new URL(c.req.url).origin;
    const lines = matched.map((k) => [
      k.id,
      t(`severity.${k.severity}`),
      t(`status.${k.status}`),
      k.accountIds.map((id) => accountText(names, id)).join(" "),
      [...new Set(k.accountIds.map((id) => names.get(id)?.group).filter(Boolean))].join(" "),
      k.alerts.map((a) => a.rule).join(" "),
      k.firstSeenAt.toISOString(),
      k.lastSeenAt.toISOString(),
      k.incidentId ? (titles.get(k.incidentId) ?? k.incidentId) : "",
      `${origin}/console/cases/${k.id}`,
    ]);
    const body = `\uFEFF${[header, ...lines].map((cells) => cells.map(csvCell).join(",")).join("\r\n")}\r\n`;
    c.header("content-type", "text/csv; charset=utf-8");
    c.header(
      "content-disposition",
      `attachment; filename="tether-cases-${deps.clock.now().toISOString().slice(0, 10)}.csv"`,
    );
    return c.body(body);
  });

  router.get("/poll", async (c) => {
    const { cases } = await loadCases(c.get("auth").workspaceId);
    return c.json({ newest: cases[0]?.id ?? null, cases: cases.length });
  });

  const findCase = async (c: Context<ConsoleEnv>) => {
    const { cases, names } = await loadCases(c.get("auth").workspaceId);
    const id = c.req.param("id");
    return { kase: cases.find((k) => k.id === id || k.alerts.some((a) => a.id === id)), names };
  };

  const renderCase = async (c: Context<ConsoleEnv>, flash?: string) => {
    const { kase, names } = await findCase(c);
    if (!kase) return fail(c, 404, c.get("t")("case.not_found"));
    const workspaceId = c.get("auth").workspaceId;
    const audit: AuditLine[] = [];
    for (const a of kase.alerts) {
      for (const row of await listAudit(db, workspaceId, { targetType: "alert", targetId: a.id }, 50, null)) {
        audit.push({ at: row.at, actor: row.actorName, action: row.action, details: row.details });
      }
    }
    audit.sort((x, y) => y.at.getTime() - x.at.getTime());
    // Each account's last few events up to a little after the case: what happened, by whom, from where.
    const events: EventLine[] = [];
    const until = { at: kase.lastSeenAt.getTime() + CASE_EVENTS_AFTER_MS, id: "" };
    for (const accountId of kase.accountIds.slice(0, 5)) {
      for (const e of (await accountEvents(db, workspaceId, accountId, CASE_EVENTS, until)).slice(
        0,
        CASE_EVENTS,
      )) {
        events.push(eventRow(e));
      }
    }
    events.sort((x, y) => y.at.getTime() - x.at.getTime());
    const incident = kase.incidentId
      ? (await listIncidents(db, workspaceId, undefined, 50, null)).find((i) => i.id === kase.incidentId)
      : undefined;
    // Accounts of other groups that shared a device, IP or subnet with the case's accounts in the sharing window.
    const since = deps.clock.now().getTime() - c.get("auth").settings.shareDays * 86_400_000;
    const related: RelatedLine[] = [];
    for (const accountId of kase.accountIds.slice(0, 5)) {
      for (const l of await listLinks(db, workspaceId, { since, accountId }, RELATED_LINKS)) {
        const otherId = l.accountA === accountId ? l.accountB : l.accountA;
        if (kase.accountIds.includes(otherId)) continue;
        related.push({
          accountId,
          otherId,
          kind: l.kind,
          value: l.value,
          lastSeenAt: new Date(l.lastSeenAt),
          allowed: l.allowed,
        });
      }
    }
    related.sort((x, y) => y.lastSeenAt.getTime() - x.lastSeenAt.getTime());
    return send(
      c,
      <CasePage
        {...(await frame(c))}
        kase={kase}
        names={names}
        audit={audit}
        events={events}
        incidentTitle={incident ? incidentName(incident) : null}
        risks={risksOf(kase.alerts)}
        related={related.slice(0, RELATED_LINKS)}
        flash={flash}
      />,
    );
  };

  router.get("/cases/:id", (c) => renderCase(c));

  router.post("/cases/:id/act", async (c) => {
    const t = c.get("t");
    const auth = c.get("auth");
    if (auth.role === "viewer") return fail(c, 403, t("error.forbidden"));
    const parsed = ActForm.safeParse(await c.req.parseBody());
    if (!parsed.success) {
      return fail(
        c,
        400,
        t("error.bad_request", { message: parsed.error.issues.map((i) => i.path).join(", ") }),
      );
    }
    const { kase } = await findCase(c);
    if (!kase) return fail(c, 404, t("case.not_found"));
    const action: AlertAction = parsed.data.action;
    const moved = await actOnAlerts({
      ctx: { db },
      input: {
        workspaceId: auth.workspaceId,
        alertIds: kase.alerts.map((a) => a.id),
        action,
        note: parsed.data.note?.trim() || undefined,
        verdict: parsed.data.verdict || undefined,
        actor: { tokenId: auth.tokenId, name: auth.tokenName, admin: auth.role === "admin" },
        now: deps.clock.now(),
        strict: false,
      },
    });
    const label = t(`action.${action}`);
    if (moved.length === 0) return fail(c, 409, t("case.nothing", { action: label }));
    return renderCase(c, t("case.done", { action: label, count: moved.length }));
  });
}

/** One CSV cell (RFC 4180); text a spreadsheet would run as a formula gets a leading apostrophe. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Does a case pass the queue's filters: its status, its worst severity, any finding's rule or account. */
function matches(k: Case<AlertRow>, q: z.infer<typeof QueueQuery>, names: Map<string, AccountName>): boolean {
  if (q.status && k.status !== q.status) return false;
  if (q.severity && k.severity !== q.severity) return false;
  if (q.rule && !k.alerts.some((a) => a.rule === q.rule)) return false;
  const accounts = k.accountIds.map((id) => names.get(id)).filter((a) => a !== undefined);
  if (q.platform && !accounts.some((a) => a.platform === q.platform)) return false;
  if (q.group && !accounts.some((a) => a.group === q.group)) return false;
  if (q.account) {
    const wanted = q.account.trim().toLowerCase();
    if (
      !accounts.some(
        (a) => a.ref.toLowerCase() === wanted || `${a.platform}/${a.ref}`.toLowerCase() === wanted,
      )
    )
      return false;
  }
  if (q.incident === "any" && !k.alerts.some((a) => a.incidentId)) return false;
  if (q.incident && q.incident !== "any" && !k.alerts.some((a) => a.incidentId === q.incident)) return false;
  return true;
}
