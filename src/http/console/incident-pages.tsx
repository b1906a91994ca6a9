/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The incident list and its declare form, one incident with its timeline and review, closing one. */
import type { Hono } from "hono";
import { z } from "zod";
import { drillMarkdown } from "../../core/drill-report.ts";
import { reviewMarkdown } from "../../core/review.ts";
import { buildDrillReport } from "../../services/build-drill-report.ts";
import { buildReview } from "../../services/build-review.ts";
import { closeIncident } from "../../services/close-incident.ts";
import { declareIncident } from "../../services/declare-incident.ts";
import { endDueDrills, getDrill } from "../../store/drills-rehearsal.ts";
import { closeQuietIncidents, getIncident, listIncidents } from "../../store/incidents.ts";
import { type DeclareDraft, INCIDENT_STATUSES, IncidentPage, IncidentsPage } from "../../ui/incidents.tsx";
import type { AuthInfo } from "../context.ts";
import { type ConsoleContext, type ConsoleEnv, type ConsoleKit, linkWith, PAGE_SIZE, send } from "./kit.tsx";

/** A workspace's incidents are few (one per outage); the list reads at most this many, newest first. */
const MAX_INCIDENTS = 1000;

const ListQuery = z.object({
  status: z.enum(INCIDENT_STATUSES).optional(),
  platform: z.string().max(64).optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
});

/** The API's declare body, as a form sends it: empty fields are absent, the start a UTC `datetime-local`. */
const DeclareForm = z.object({
  platform: z.string().regex(/^[a-z0-9_]{1,32}$/),
  region: z
    .string()
    .regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/)
    .optional(),
  title: z.string().min(1).max(200),
  started_at: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/)
    .transform((v) => new Date(`${v}Z`))
    .refine((d) => !Number.isNaN(d.getTime()))
    .optional(),
});

const formText = (value: unknown) => (typeof value === "string" ? value.trim() : "");

export function incidentPages(router: Hono<ConsoleEnv>, kit: ConsoleKit) {
  const { db, deps, frame, fail, query, loadCases } = kit;
  const actor = (auth: AuthInfo) => ({ tokenId: auth.tokenId, name: auth.tokenName });
  /** Detected incidents end by themselves after a quiet hold; the console reads them as the API does. */
  const settle = (auth: AuthInfo) =>
    closeQuietIncidents(db, auth.workspaceId, deps.clock.now(), auth.settings.incident.holdMinutes);

  const renderList = async (
    c: ConsoleContext,
    q: z.infer<typeof ListQuery>,
    draft?: DeclareDraft,
    status: 200 | 400 = 200,
  ) => {
    const auth = c.get("auth");
    await settle(auth);
    const [stored, { cases, names }] = await Promise.all([
      listIncidents(db, auth.workspaceId, q.status, MAX_INCIDENTS, null),
      loadCases(auth.workspaceId),
    ]);
    const casesOf = new Map<string, number>();
    for (const k of cases) if (k.incidentId) casesOf.set(k.incidentId, (casesOf.get(k.incidentId) ?? 0) + 1);
    // Active incidents first (they need action), then the newest.
    const matched = stored
      .slice(0, MAX_INCIDENTS)
      .filter((i) => !q.platform || i.platform === q.platform)
      .sort(
        (a, b) =>
          (a.status === "active" ? 0 : 1) - (b.status === "active" ? 0 : 1) ||
          b.startedAt.getTime() - a.startedAt.getTime(),
      );
    const platforms = [
      ...new Set([...stored.map((i) => i.platform), ...[...names.values()].map((a) => a.platform)]),
    ].sort();
    return send(
      c,
      <IncidentsPage
        {...(await frame(c))}
        rows={matched
          .slice((q.page - 1) * PAGE_SIZE, q.page * PAGE_SIZE)
          .map((i) => ({ ...i, cases: casesOf.get(i.id) ?? 0 }))}
        total={matched.length}
        page={q.page}
        pages={Math.ceil(matched.length / PAGE_SIZE)}
        filter={q}
        platforms={platforms}
        query={linkWith("/console/incidents", { ...q, page: undefined })}
        now={deps.clock.now()}
        draft={draft}
      />,
      status,
    );
  };

  router.get("/incidents", async (c) => {
    const parsed = await query(c, ListQuery);
    if (parsed.response) return parsed.response;
    return renderList(c, parsed.data);
  });

  router.post("/incidents", async (c) => {
    const t = c.get("t");
    const auth = c.get("auth");
    if (auth.role === "viewer") return fail(c, 403, t("error.forbidden"));
    const body = await c.req.parseBody();
    const given = {
      platform: formText(body.platform),
      region: formText(body.region).toUpperCase(),
      title: formText(body.title),
      started_at: formText(body.started_at),
    };
    const parsed = DeclareForm.safeParse(
      Object.fromEntries(Object.entries(given).filter(([, v]) => v !== "")),
    );
    if (!parsed.success) {
      const where = [...new Set(parsed.error.issues.map((i) => i.path.join(".")))].join(", ");
      const draft = { ...given, error: t("error.bad_request", { message: where }) };
      return renderList(c, { page: 1 }, draft, 400);
    }
    const incident = await declareIncident({
      ctx: { db },
      input: {
        workspaceId: auth.workspaceId,
        platform: parsed.data.platform,
        region: parsed.data.region ?? null,
        title: parsed.data.title,
        startedAt: parsed.data.started_at ?? null,
        actor: actor(auth),
        now: deps.clock.now(),
      },
    });
    return c.redirect(`/console/incidents/${incident.id}`, 303);
  });

  /** The incident of the path in the signed-in workspace, settled; null when there is none. */
  const findIncident = async (c: ConsoleContext) => {
    const auth = c.get("auth");
    await settle(auth);
    return getIncident(db, auth.workspaceId, c.req.param("id") ?? "");
  };

  const renderIncident = async (c: ConsoleContext, flash?: string) => {
    const auth = c.get("auth");
    const incident = await findIncident(c);
    if (!incident) return fail(c, 404, c.get("t")("inc.not_found"));
    const now = deps.clock.now();
    const drill = incident.kind === "drill" ? await getDrill(db, auth.workspaceId, incident.id) : null;
    const [review, { cases, names }, drillReport] = await Promise.all([
      buildReview({
        ctx: { db },
        input: { workspaceId: auth.workspaceId, incident, settings: auth.settings, now },
      }),
      loadCases(auth.workspaceId),
      drill
        ? buildDrillReport({
            ctx: { db },
            input: { workspaceId: auth.workspaceId, drill, settings: auth.settings, now },
          })
        : undefined,
    ]);
    return send(
      c,
      <IncidentPage
        {...(await frame(c))}
        incident={incident}
        review={review}
        cases={cases.filter((k) => k.incidentId === incident.id)}
        names={names}
        now={now}
        drillReport={drillReport}
        flash={flash}
      />,
    );
  };

  router.get("/incidents/:id", (c) => renderIncident(c));

  // The API's Markdown needs a bearer token; a signed-in reader downloads the same text here.
  router.get("/incidents/:id/review.md", async (c) => {
    const auth = c.get("auth");
    const incident = await findIncident(c);
    if (!incident) return fail(c, 404, c.get("t")("inc.not_found"));
    const review = await buildReview({
      ctx: { db },
      input: { workspaceId: auth.workspaceId, incident, settings: auth.settings, now: deps.clock.now() },
    });
    return c.body(reviewMarkdown(review), 200, {
      "content-type": "text/markdown; charset=utf-8",
      "content-disposition": `attachment; filename="review-${incident.id}.md"`,
    });
  });

  // A drill's report, downloaded by a signed-in reader as the API's Markdown (English and Chinese).
  router.get("/incidents/:id/drill-report.md", async (c) => {
    const auth = c.get("auth");
    await endDueDrills(db, auth.workspaceId, deps.clock.now());
    const drill = await getDrill(db, auth.workspaceId, c.req.param("id") ?? "");
    if (!drill) return fail(c, 404, c.get("t")("inc.not_found"));
    const report = await buildDrillReport({
      ctx: { db },
      input: { workspaceId: auth.workspaceId, drill, settings: auth.settings, now: deps.clock.now() },
    });
    return c.body(drillMarkdown(report), 200, {
      "content-type": "text/markdown; charset=utf-8",
      "content-disposition": `attachment; filename="drill-${drill.id}.md"`,
    });
  });

  router.post("/incidents/:id/close", async (c) => {
    const t = c.get("t");
    const auth = c.get("auth");
    if (auth.role === "viewer") return fail(c, 403, t("error.forbidden"));
    await settle(auth);
    // Not found and already closed come back as ApiErrors, which the console answers with its 404 and 409 pages.
    await closeIncident({
      ctx: { db },
      input: {
        workspaceId: auth.workspaceId,
        incidentId: c.req.param("id"),
        actor: actor(auth),
        now: deps.clock.now(),
      },
    });
    return renderIncident(c, t("inc.closed_flash"));
  });
}
