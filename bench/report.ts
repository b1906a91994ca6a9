/** The targets of issue 7, judged from the measurements, as a Markdown table and a JSON record. */
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Ceiling } from "./ceilings.ts";
import type { PhaseStats } from "./load.ts";
import { describeRss, maxRss, type ProcessRss } from "./rss.ts";
import type { Kind, Storage } from "./target.ts";
import { BATCH } from "./traffic.ts";
import { fmt, MIB } from "./util.ts";

export const TARGETS = {
  batchRatio: 0.5,
  singleRatio: 0.5,
  singleP99Ms: 30,
  flatRatio: 0.8,
  rssBytes: 300 * MIB,
  bytesPerEvent: 600,
};

export interface Fifth {
  fifth: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
}

/**
 * The ingest rate of each fifth of a run of `total` events, from its [seconds, events so far] timeline:
 * fifth k ends at the first answer that takes the count to k·total/5. Fifths the run never finished are null.
 */
export function fifths(timeline: ReadonlyArray<[number, number]>, total: number): Array<Fifth | null> {
  const out: Array<Fifth | null> = [];
  let from: [number, number] = [0, 0];
  let i = 0;
  for (let k = 1; k <= 5; k += 1) {
    const goal = Math.ceil((k * total) / 5);
    while (i < timeline.length && timeline[i]![1] < goal) i += 1;
    const at = timeline[i];
    if (total === 0 || !at) {
      out.push(null);
      continue;
    }
    const events = at[1] - from[1];
    const seconds = at[0] - from[0];
    out.push({ fifth: k, events, seconds, eventsPerSecond: events / seconds });
    from = at;
  }
  return out;
}

export interface Figure {
  figure: string;
  measured: string;
  target: string;
  /** null: reported, not judged (PGlite, or nothing to judge) */
  pass: boolean | null;
  /** the judged number, for the JSON record */
  value: number | null;
  why?: string;
}

export interface Measurements {
  kind: Kind;
  /** database, machine and settings, one line */
  setting: string;
  history: { requested: number; phase: PhaseStats | null; fifths: Array<Fifth | null> };
  batch: PhaseStats;
  single: PhaseStats;
  /** null when there was nothing to measure them with (no event stored) */
  ceilings: { multi: Ceiling; single: Ceiling } | null;
  rss: { afterHistory: ProcessRss[]; end: ProcessRss[]; peak: ProcessRss[] };
  storage: Storage;
  /** PGlite: growth of the data dir over the run */
  dataDirGrowthBytes: number | null;
}

const mib = (bytes: number) => `${fmt(bytes / MIB)} MiB`;
const ratio = (r: number) => (Number.isFinite(r) ? `${fmt(r, 2)}×` : "–");

/** A phase's errors void its figures: a fast error answer is no throughput and no latency. */
const failed = (p: PhaseStats) => (p.errors > 0 ? `${fmt(p.errors)} requests failed` : null);

export function judge(m: Measurements): Figure[] {
  const figures: Figure[] = [];
  /** On PGlite every figure is reported, none judged. */
  const add = (f: {
    figure: string;
    measured: string;
    target: string;
    /** null: nothing to judge */
    ok: boolean | null;
    value: number | null;
    broken?: string | null;
  }) => {
    const judged = m.kind === "postgres";
    figures.push({
      figure: f.figure,
      measured: f.measured,
      target: judged ? f.target : "report",
      pass: judged && f.ok !== null ? f.ok && !f.broken : null,
      value: f.value,
      ...(f.broken ? { why: f.broken } : {}),
    });
  };
  const { batch, single } = m;
  const multi = m.ceilings?.multi;
  const one = m.ceilings?.single;
  const noCeiling = m.ceilings ? null : "no ceiling: no event was stored";

  const batchRatio = batch.eventsPerSecond / (multi?.rowsPerSecond ?? Number.NaN);
  add({
    figure: `1. batches of ${BATCH}, ${batch.clients} clients: tether ev/s ÷ multi-row INSERT ceiling (${batch.clients} connections)`,
    measured: `${fmt(batch.eventsPerSecond)} ÷ ${fmt(multi?.rowsPerSecond ?? Number.NaN)} = ${ratio(batchRatio)}`,
    target: `≥ ${TARGETS.batchRatio}×`,
    ok: batchRatio >= TARGETS.batchRatio,
    value: Number.isNaN(batchRatio) ? null : batchRatio,
    broken: failed(batch) ?? noCeiling,
  });

  const singleRatio = single.eventsPerSecond / (one?.rowsPerSecond ?? Number.NaN);
  add({
    figure: `2. single events, ${single.clients} clients: tether ev/s ÷ single-row INSERT ceiling (${single.clients} connections)`,
    measured: `${fmt(single.eventsPerSecond)} ÷ ${fmt(one?.rowsPerSecond ?? Number.NaN)} = ${ratio(singleRatio)}`,
    target: `≥ ${TARGETS.singleRatio}×`,
    ok: singleRatio >= TARGETS.singleRatio,
    value: Number.isNaN(singleRatio) ? null : singleRatio,
    broken: failed(single) ?? noCeiling,
  });
  add({
    figure: `2. single events, ${single.clients} clients: tether p99 latency (p50); ceiling p99 (p50)`,
    measured: `${fmt(single.p99Ms, 1)} ms (${fmt(single.p50Ms, 1)}); ceiling ${fmt(one?.p99Ms ?? Number.NaN, 1)} ms (${fmt(one?.p50Ms ?? Number.NaN, 1)})`,
    target: `≤ ${TARGETS.singleP99Ms} ms`,
    ok: single.p99Ms <= TARGETS.singleP99Ms,
    value: single.p99Ms,
    broken: failed(single),
  });

  const { requested, phase, fifths } = m.history;
  if (!phase) {
    add({
      figure: "3. flat cost with history",
      measured: "not run (--history 0)",
      target: `≥ ${TARGETS.flatRatio}×`,
      ok: null,
      value: null,
    });
  } else {
    const [, second, , , last] = fifths;
    const flat = second && last ? last.eventsPerSecond / second.eventsPerSecond : Number.NaN;
    const rates = fifths.map((f) => (f ? fmt(f.eventsPerSecond) : "–")).join(" / ");
    // A fifth of a few batches from several clients is mostly noise: they finish in bursts.
    const perFifth = Math.floor(requested / BATCH / 5);
    const noisy =
      perFifth < 10 * phase.clients
        ? `; only ${perFifth} batch${perFifth === 1 ? "" : "es"} a fifth: noisy`
        : "";
    const cut = phase.cut ? "the history run was cut at its time limit" : null;
    add({
      figure: `3. flat cost, ${fmt(requested)} events of history: last fifth ev/s ÷ second fifth ev/s`,
      measured: `${Number.isNaN(flat) ? "incomplete" : `${fmt(last!.eventsPerSecond)} ÷ ${fmt(second!.eventsPerSecond)} = ${ratio(flat)}`} (fifths: ${rates}${noisy})`,
      target: `≥ ${TARGETS.flatRatio}×`,
      ok: flat >= TARGETS.flatRatio,
      value: Number.isNaN(flat) ? null : flat,
      broken: [failed(phase), cut].filter(Boolean).join("; ") || null,
    });
  }

  // "After the history run": right after it, and at the end of the run, whichever is larger.
  const rss = Math.max(maxRss(m.rss.afterHistory), maxRss(m.rss.end));
  const processes = Math.max(m.rss.afterHistory.length, m.rss.end.length);
  add({
    figure: `4. server RSS after the history run, max per process (${processes} process${processes === 1 ? "" : "es"}); peak during the run`,
    measured: `${mib(rss)}; peak ${mib(maxRss(m.rss.peak))}`,
    target: `≤ ${fmt(TARGETS.rssBytes / MIB)} MiB`,
    ok: rss <= TARGETS.rssBytes,
    value: rss,
    broken: rss === 0 ? "no RSS read" : null,
  });

  add({
    figure: `5. storage per event (${fmt(m.storage.events)} events, ${m.storage.tables.length} tables)`,
    measured: `${fmt(m.storage.bytesPerEvent)} B`,
    target: `≤ ${TARGETS.bytesPerEvent} B`,
    ok: m.storage.bytesPerEvent <= TARGETS.bytesPerEvent,
    value: m.storage.bytesPerEvent,
  });
  return figures;
}

const row = (cells: string[]) => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;

export function figuresTable(figures: Figure[]): string {
  return [
    row(["figure", "measured", "target", "pass/fail"]),
    row(["---", "---", "---", "---"]),
    ...figures.map((f) =>
      row([
        f.figure,
        f.measured,
        f.target,
        f.pass === null ? "—" : f.pass ? "pass" : `**FAIL**${f.why ? ` (${f.why})` : ""}`,
      ]),
    ),
  ].join("\n");
}

export function phasesTable(phases: PhaseStats[], ceilings: Ceiling[]): string {
  return [
    row([
      "run",
      "clients",
      "requests",
      "events",
      "s",
      "ev/s",
      "p50 ms",
      "p99 ms",
      "max ms",
      "503 retries",
      "errors",
    ]),
    row(["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]),
    ...phases.map((p) =>
      row([
        `tether: ${p.name}${p.cut ? ` (cut at ${p.limitSeconds} s)` : ""}`,
        fmt(p.clients),
        fmt(p.requests),
        fmt(p.events),
        fmt(p.seconds, 1),
        fmt(p.eventsPerSecond),
        fmt(p.p50Ms, 1),
        fmt(p.p99Ms, 1),
        fmt(p.maxMs, 1),
        fmt(p.retries),
        fmt(p.errors),
      ]),
    ),
    ...ceilings.map((c) =>
      row([
        `ceiling: ${c.name}`,
        fmt(c.connections),
        fmt(c.statements),
        fmt(c.rows),
        fmt(c.seconds, 1),
        fmt(c.rowsPerSecond),
        fmt(c.p50Ms, 1),
        fmt(c.p99Ms, 1),
        "–",
        "–",
        "–",
      ]),
    ),
  ].join("\n");
}

export function describePhase(p: PhaseStats): string {
  const lines = [
    `  ${p.name}: ${fmt(p.events)} events in ${fmt(p.requests)} requests, ${fmt(p.seconds, 1)} s → ${fmt(p.eventsPerSecond)} ev/s; ` +
      `latency p50 ${fmt(p.p50Ms, 1)} ms, p99 ${fmt(p.p99Ms, 1)} ms, max ${fmt(p.maxMs, 1)} ms`,
  ];
  if (p.accepted !== p.events || p.duplicates > 0) {
    lines.push(`    the server answered accepted ${fmt(p.accepted)}, duplicates ${fmt(p.duplicates)}`);
  }
  if (p.retries > 0)
    lines.push(`    ${fmt(p.retries)} answers were 503 + Retry-After, waited out and retried`);
  if (p.errors > 0) lines.push(`    ${fmt(p.errors)} requests failed; first: ${p.firstError}`);
  if (p.cut) lines.push(`    stopped at its ${p.limitSeconds} s limit before sending everything`);
  return lines.join("\n");
}

/** The Markdown to paste: the judged figures, then the raw details they come from. */
export function summary(m: Measurements, figures: Figure[]): string {
  const phases = [...(m.history.phase ? [m.history.phase] : []), m.batch, m.single];
  const { storage } = m;
  const fifthsText = m.history.fifths
    .map((f) => (f ? `${fmt(f.eventsPerSecond)} (${fmt(f.events)} in ${fmt(f.seconds, 1)} s)` : "–"))
    .join(" · ");
  const tables = storage.tables
    .map(
      (t) =>
        `${t.table} ${fmt(t.bytes / MIB, 1)} MiB${t.partitions > 0 ? ` (${t.partitions} partitions)` : ""}`,
    )
    .join(", ");
  const growth =
    m.dataDirGrowthBytes === null
      ? ""
      : `; the data dir grew ${fmt(m.dataDirGrowthBytes / MIB, 1)} MiB, ${fmt(m.dataDirGrowthBytes / storage.events)} B/event`;
  const failures = phases.filter((p) => p.firstError).map((p) => `${p.name}: ${p.firstError}`);
  return [
    `**tether ingest bench** — ${m.setting}`,
    "",
    figuresTable(figures),
    "",
    phasesTable(phases, m.ceilings ? [m.ceilings.multi, m.ceilings.single] : []),
    "",
    `History fifths (ev/s): ${fifthsText || "not run"}`,
    `Server RSS per process — after the history: ${describeRss(m.rss.afterHistory)}; at the end: ${describeRss(m.rss.end)}; peak: ${describeRss(m.rss.peak)}`,
    `Storage: ${fmt(storage.bytes / MIB, 1)} MiB for ${fmt(storage.events)} events — ${tables}; ${storage.how}${growth}`,
    `Ceilings: ${m.ceilings ? `${m.ceilings.multi.how}; ${m.ceilings.single.how}` : "not measured: no event was stored"}`,
    `Failures: ${failures.join("; ") || "none"}`,
  ].join("\n");
}

const BIOME = fileURLToPath(new URL("../node_modules/@biomejs/biome/bin/biome", import.meta.url));

/**
 * bench/results/<YYYY-MM-DD>-<kind>.json (local date; a second run the same day replaces the first), laid
 * out by the repo's formatter so a committed result passes `npm run lint`.
 */
export async function writeResults(kind: Kind, record: unknown): Promise<string> {
  const dir = new URL("./results/", import.meta.url);
  await mkdir(dir, { recursive: true });
  const now = new Date();
  const day = [now.getFullYear(), now.getMonth() + 1, now.getDate()]
    .map((n) => String(n).padStart(2, "0"))
    .join("-");
  const file = fileURLToPath(new URL(`${day}-${kind}.json`, dir));
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  await promisify(execFile)(process.execPath, [BIOME, "format", "--write", file]).catch((err: Error) =>
    console.log(
      `(${file} left as JSON.stringify wrote it: biome format failed: ${err.message.split("\n")[0]})`,
    ),
  );
  return file;
}
