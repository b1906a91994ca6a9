/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The accounts list, an account's page and the associations graph. */
import type { Hono } from "hono";
import { z } from "zod";
import { clusters as clustersOf } from "../../core/clusters.ts";
import { PIN_DIMENSIONS } from "../../core/model.ts";
import { updateAccountSettings } from "../../services/update-account.ts";
import {
  accountEvents,
  baselineOf,
  environmentIdsOf,
  getAccount,
  listAccounts,
} from "../../store/accounts.ts";
import { listLinks } from "../../store/associations.ts";
import { accountNames, recentAlerts } from "../../store/cases.ts";
import { getEnvironment } from "../../store/environments.ts";
import {
  ACCOUNT_STATES,
  type AccountCase,
  type AccountLine,
  AccountPage,
  AccountsPage,
  AssociationsPage,
  type GraphCluster,
  severityRank,
} from "../../ui/accounts.tsx";
import { accountText } from "../../ui/pages.tsx";
import { PatchAccountSchema } from "../accounts/schemas.ts";
import { type ConsoleEnv, type ConsoleKit, eventRow, linkWith, PAGE_SIZE, send } from "./kit.tsx";

const AccountsQuery = z.object({
  q: z.string().max(200).optional(),
  platform: z.string().max(64).optional(),
  group: z.string().max(128).optional(),
  state: z.enum(ACCOUNT_STATES).optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
});
/** How many accounts the list reads at most, and how many links the graph draws at most. */
const ACCOUNTS_MAX = 10_000;
const GRAPH_LINKS = 2_000;
const ACCOUNT_EVENTS = 30;

export function accountPages(router: Hono<ConsoleEnv>, kit: ConsoleKit) {
  const { db, deps, frame, fail, query, loadCases } = kit;

  /** Each account's open findings: how many, and the worst severity among them. */
  const openByAccount = async (workspaceId: string) => {
    const open = new Map<string, { count: number; worst: string | null }>();
    for (const a of await recentAlerts(db, workspaceId)) {
      if (a.status !== "open") continue;
      for (const id of a.accountIds) {
        const o = open.get(id) ?? { count: 0, worst: null };
        o.count += 1;
        if (o.worst === null || severityRank(a.severity) > severityRank(o.worst)) o.worst = a.severity;
        open.set(id, o);
      }
    }
    return open;
  };

  const accountLine = (
    a: Awaited<ReturnType<typeof listAccounts>>[number],
    open: Map<string, { count: number; worst: string | null }>,
  ): AccountLine => ({
    id: a.id,
    platform: a.platform,
    ref: a.ref,
    label: a.label,
    group: a.group,
    state: a.state,
    events: a.eventCount,
    openAlerts: open.get(a.id)?.count ?? 0,
    risk: open.get(a.id)?.worst ?? null,
  });

  router.get("/accounts", async (c) => {
    const _t = c.get("t");
    const parsed = await query(c, AccountsQuery);
    if (parsed.response) return parsed.response;
    const q = parsed.data;
    const workspaceId = c.get("auth").workspaceId;
    const [all, open] = await Promise.all([
      listAccounts(db, workspaceId, {}, ACCOUNTS_MAX, null),
      openByAccount(workspaceId),
    ]);
    const needle = q.q?.trim().toLowerCase();
    const matched = all
      .slice(0, ACCOUNTS_MAX)
      .filter(
        (a) =>
          (!q.platform || a.platform === q.platform) &&
          (!q.group || a.group === q.group) &&
          (!q.state || a.state === q.state) &&
          (!needle || `${a.platform}/${a.ref}`.toLowerCase().includes(needle)),
      )
      .map((a) => accountLine(a, open))
      // The riskiest first, then by platform/ref: what needs a look is on the first page.
      .sort(
        (x, y) =>
          severityRank(y.risk ?? "") - severityRank(x.risk ?? "") ||
          y.openAlerts - x.openAlerts ||
          `${x.platform}/${x.ref}`.localeCompare(`${y.platform}/${y.ref}`),
      );
    const link = linkWith("/console/accounts", { ...q, page: undefined });
    return send(
      c,
      <AccountsPage
        {...(await frame(c))}
        accounts={matched.slice((q.page - 1) * PAGE_SIZE, q.page * PAGE_SIZE)}
        total={matched.length}
        page={q.page}
        pages={Math.ceil(matched.length / PAGE_SIZE)}
        filter={q}
        platforms={[...new Set(all.map((a) => a.platform))].sort()}
        groups={[...new Set(all.map((a) => a.group).filter((g) => g !== null))].sort()}
        query={link}
      />,
    );
  });

  router.get("/accounts/:id", async (c) => {
    const t = c.get("t");
    const workspaceId = c.get("auth").workspaceId;
    const row = await getAccount(db, workspaceId, c.req.param("id"));
    if (!row) return fail(c, 404, t("account.not_found"));
    const [open, baseline, events, envIds, { cases }] = await Promise.all([
      openByAccount(workspaceId),
      baselineOf(db, row.id),
      accountEvents(db, workspaceId, row.id, ACCOUNT_EVENTS, null),
      environmentIdsOf(db, [row.id]),
      loadCases(workspaceId),
    ]);
    const environments: string[] = [];
    for (const id of envIds.get(row.id) ?? []) {
      const env = await getEnvironment(db, workspaceId, id);
      if (env) environments.push(env.name);
    }
    const mine: AccountCase[] = cases
      .filter((k) => k.accountIds.includes(row.id))
      .slice(0, 50)
      .map((k) => ({
        id: k.id,
        severity: k.severity,
        status: k.status,
        rules: [...new Set(k.alerts.map((a) => a.rule))],
        firstSeenAt: k.firstSeenAt,
      }));
    return send(
      c,
      <AccountPage
        {...(await frame(c))}
        account={accountLine(row, open)}
        pin={row.pin}
        baseline={baseline.map((b) => ({
          kind: b.kind,
          value: b.value,
          count: b.count,
          firstSeenAt: new Date(b.firstSeenAt),
          lastSeenAt: new Date(b.lastSeenAt),
          accepted: b.accepted,
          healedAt: b.healedAt ? new Date(b.healedAt) : null,
          heal: b.accepted ? null : { cleanEvents: b.healEvents, blocked: b.healBlocked },
        }))}
        healEvents={c.get("auth").settings.heal.events}
        events={events.slice(0, ACCOUNT_EVENTS).map(eventRow)}
        cases={mine}
        environments={environments}
        flash={c.req.query("saved") === "1" ? t("settings.saved") : undefined}
      />,
    );
  });

  router.post("/accounts/:id/settings", async (c) => {
    const t = c.get("t");
    const auth = c.get("auth");
    if (auth.role !== "admin") return fail(c, 403, t("error.forbidden"));
    const form = await c.req.parseBody();
    const field = (name: string) => (typeof form[name] === "string" ? (form[name] as string) : "");
    const pin: Record<string, unknown[]> = {};
    for (const dimension of PIN_DIMENSIONS) {
      const values = field(`pin_${dimension}`)
        .split(/[\s,]+/)
        .filter((v) => v !== "");
      if (values.length > 0) pin[dimension] = dimension === "asns" ? values.map(asNumber) : values;
    }
    const group = field("group").trim();
    const parsed = PatchAccountSchema.safeParse({
      group: group === "" ? null : group,
      pin: Object.keys(pin).length > 0 ? pin : null,
    });
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      return fail(c, 400, t("error.bad_request", { message }));
    }
    const row = await updateAccountSettings({
      ctx: { db },
      input: {
        workspaceId: auth.workspaceId,
        accountId: c.req.param("id"),
        changes: { group: parsed.data.group, pin: parsed.data.pin },
        actor: { tokenId: auth.tokenId, name: auth.tokenName },
        now: deps.clock.now(),
      },
    });
    if (!row) return fail(c, 404, t("account.not_found"));
    return c.redirect(`/console/accounts/${row.id}?saved=1`, 303);
  });

  router.get("/associations", async (c) => {
    const auth = c.get("auth");
    const since = deps.clock.now().getTime() - auth.settings.shareDays * 86_400_000;
    const [found, names] = await Promise.all([
      listLinks(db, auth.workspaceId, { since }, GRAPH_LINKS + 1),
      accountNames(db, auth.workspaceId),
    ]);
    const links = found.slice(0, GRAPH_LINKS);
    const drawn: GraphCluster[] = clustersOf(links).map((k) => {
      const members = new Set(k.account_ids);
      return {
        nodes: k.account_ids.map((id) => ({
          id,
          label: accountText(names, id),
          group: names.get(id)?.group ?? null,
        })),
        edges: links
          .filter((l) => !l.allowed && members.has(l.accountA))
          .map((l) => ({ a: l.accountA, b: l.accountB, kind: l.kind, value: l.value })),
      };
    });
    return send(
      c,
      <AssociationsPage {...(await frame(c))} clusters={drawn} truncated={found.length > GRAPH_LINKS} />,
    );
  });
}

/** A form's ASN as a number; anything else stays text, so the schema names it as the wrong value it is. */
const asNumber = (value: string) => (/^\d{1,10}$/.test(value) ? Number(value) : value);
