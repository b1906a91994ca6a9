import type { BaselineKind } from "./baseline.ts";
import type { Finding, Severity } from "./model.ts";

/**
 * Statistical risk in the manner of Freeman et al., "Who Are You? A Statistical Approach to Measuring
 * User Authenticity" (NDSS 2016): for each feature, log p(value in the workspace) / p(value | account),
 * with account estimates smoothed toward the population and backed off along a hierarchy, so an unseen
 * IP inside a familiar network costs little and an unseen country costs a lot. docs/risk-score.md has the math.
 */

export interface Counts {
  account(kind: BaselineKind, value: string): number;
  accountTotal(kind: BaselineKind): number;
  /**
   * The workspace's count of a value *under its ancestors*: `path` joins the values from the hierarchy's root
   * down to this level (see `populationPaths`), so Chrome on Linux and Chrome on Windows are counted apart and
   * every conditional p(child | parent) is exact even where a browser or an ASN spans several parents.
   */
  workspace(kind: BaselineKind, path: string): number;
  workspaceTotal(kind: BaselineKind): number;
}

/** Separates the levels of a population path; never part of an accepted value. */
export const PATH_SEP = "\u001f";

/** Prior strength: how many observations the population's opinion is worth for an account. */
export const ALPHA = 1;
/** Evidence saturation: counts beyond this many observations add no further confidence. */
export const MAX_EVIDENCE = 200;
/** Scale of the log-ratio → 0–100 mapping: risk = 100·(1 − e^(−S/TAU)). */
export const TAU = 8;

/** Assumed number of values not yet seen in the workspace at each level (Laplace smoothing of the population). */
export const VOCABULARY: Record<BaselineKind, number> = {
  country: 250,
  asn: 100,
  ip: 1000,
  os: 20,
  browser: 20,
  ua: 100,
  device: 1000,
  timezone: 400,
  locale: 200,
  region: 100,
  subnet: 256,
  // not part of a hierarchy (the ASN already says it): counted for the baseline only
  network_type: 4,
};

/** Finest level first: IP → ASN → country and user agent → browser → OS. */
export const HIERARCHIES: BaselineKind[][] = [
  ["ip", "asn", "country"],
  ["ua", "browser", "os"],
  ["device"],
  ["timezone"],
  ["locale"],
];

/** What one level of a hierarchy contributed: its probabilities in the workspace and for the account. */
export type LevelTrace = (kind: BaselineKind, value: string, pWorkspace: number, pAccount: number) => void;

/**
 * log p_W(value) / p_A(value) for one hierarchy, given the event's value at each level (finest first). `trace`,
 * when given, sees each level's probabilities from the coarsest down (the hot path passes none).
 */
export function hierarchyLogRatio(
  levels: Array<[BaselineKind, string]>,
  counts: Counts,
  trace?: LevelTrace,
): number {
  // Walk from the coarsest level down, carrying the population and account probabilities of the parent.
  let pWorkspace = 1;
  let pAccount = 1;
  let parentWorkspaceCount: number | null = null;
  let path = "";
  for (let i = levels.length - 1; i >= 0; i--) {
    const [kind, value] = levels[i]!;
    path = path ? `${path}${PATH_SEP}${value}` : value;
    const cW = counts.workspace(kind, path);
    const conditionalW =
      (cW + 1) / ((parentWorkspaceCount ?? counts.workspaceTotal(kind)) + VOCABULARY[kind]);
    const nA = counts.accountTotal(kind);
    const scale = nA > MAX_EVIDENCE ? MAX_EVIDENCE / nA : 1;
    const cA = counts.account(kind, value) * scale;
    pAccount = (cA + ALPHA * pAccount * conditionalW) / (nA * scale + ALPHA);
    pWorkspace *= conditionalW;
    parentWorkspaceCount = cW;
    trace?.(kind, value, pWorkspace, pAccount);
  }
  return Math.log(pWorkspace / pAccount);
}

function levelsOf(features: Partial<Record<BaselineKind, string>>): Array<Array<[BaselineKind, string]>> {
  const out: Array<Array<[BaselineKind, string]>> = [];
  for (const hierarchy of HIERARCHIES) {
    const levels: Array<[BaselineKind, string]> = [];
    for (const kind of hierarchy) {
      const value = features[kind];
      if (value !== undefined) levels.push([kind, value]);
    }
    if (levels.length > 0) out.push(levels);
  }
  return out;
}

export function statisticalLogRatio(features: Partial<Record<BaselineKind, string>>, counts: Counts): number {
  let total = 0;
  for (const levels of levelsOf(features)) total += hierarchyLogRatio(levels, counts);
  return total;
}

/** One hierarchy's part of an event's risk: its levels' probabilities and its log ratio (nats). */
export interface RiskFactor {
  /** the finest level present, e.g. `ip` for the network hierarchy */
  kind: BaselineKind;
  value: string;
  log_ratio: number;
  /** coarsest first: how common the value is in the workspace, and for this account (smoothed) */
  levels: Array<{ kind: BaselineKind; value: string; p_workspace: number; p_account: number }>;
}

const round = (x: number) => Number(x.toPrecision(3));

/**
 * The per-feature likelihoods behind a score, for people: why an event scored what it did. The same arithmetic as
 * `statisticalLogRatio`, traced; the riskiest hierarchy first.
 */
export function riskFactors(features: Partial<Record<BaselineKind, string>>, counts: Counts): RiskFactor[] {
  return explainRisk(features, counts).factors;
}

/**
 * An event's log ratio S and its factors from one pass over the hierarchies: what the judge needs for every
 * event. `logRatio` is the unrounded sum, exactly `statisticalLogRatio`.
 */
export function explainRisk(
  features: Partial<Record<BaselineKind, string>>,
  counts: Counts,
): { logRatio: number; factors: RiskFactor[] } {
  let logRatio = 0;
  const factors = levelsOf(features).map((levels): RiskFactor => {
    const traced: RiskFactor["levels"] = [];
    const ratio = hierarchyLogRatio(levels, counts, (kind, value, pW, pA) =>
      traced.push({ kind, value, p_workspace: round(pW), p_account: round(pA) }),
    );
    logRatio += ratio;
    const [kind, value] = levels[0]!;
    return { kind, value, log_ratio: round(ratio), levels: traced };
  });
  return { logRatio, factors: factors.sort((a, b) => b.log_ratio - a.log_ratio) };
}

/**
 * The population keys an event counts under: each present level with its path from the hierarchy's root,
 * plus `root` marking the levels whose kind total (value '') must be counted too.
 */
export function populationPaths(
  features: Partial<Record<BaselineKind, string>>,
): Array<{ kind: BaselineKind; path: string; root: boolean }> {
  const out: Array<{ kind: BaselineKind; path: string; root: boolean }> = [];
  for (const levels of levelsOf(features)) {
    let path = "";
    for (let i = levels.length - 1; i >= 0; i--) {
      const [kind, value] = levels[i]!;
      path = path ? `${path}${PATH_SEP}${value}` : value;
      out.push({ kind, path, root: i === levels.length - 1 });
    }
  }
  return out;
}

export function logRatioToRisk(s: number): number {
  return s <= 0 ? 0 : Math.round(100 * (1 - Math.exp(-s / TAU)));
}

/** A finding's severity sets a floor, so a pin violation is never scored as harmless. */
export const SEVERITY_FLOOR: Record<Severity, number> = {
  info: 0,
  low: 15,
  medium: 40,
  high: 70,
  critical: 90,
};

export function eventRisk(logRatio: number, findings: Pick<Finding, "severity">[]): number {
  let floor = 0;
  for (const f of findings) floor = Math.max(floor, SEVERITY_FLOOR[f.severity]);
  return Math.max(logRatioToRisk(logRatio), floor);
}
