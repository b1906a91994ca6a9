import type { Context } from "hono";
import {
  type AccountRefs,
  accountIdsIn,
  type FindingText,
  findingText,
  renderStored,
  renderText,
} from "../../core/finding-text.ts";
import { type Lang, pickLang } from "../../i18n/index.ts";
import { findAccountsByIds } from "../../store/accounts.ts";
import type { Db } from "../../store/db.ts";

/** The language the request reads findings in (Accept-Language; English by default); the answer varies by it. */
export function readerLang(c: Context): Lang {
  c.header("vary", "Accept-Language", { append: true });
  return pickLang(undefined, c.req.header("accept-language"));
}

/** The `platform/ref` of the accounts a set of sentences names, in one query. */
export async function accountRefs(db: Db, workspaceId: string, ids: Iterable<string>): Promise<AccountRefs> {
  const wanted = [...new Set(ids)];
  const found = await findAccountsByIds(db, workspaceId, wanted);
  return new Map(found.map((a) => [a.id, { platform: a.platform, ref: a.ref }]));
}

export interface WordedFinding {
  rule: string;
  severity: string;
  message: string;
  text?: FindingText;
}

/**
 * Findings as the API answers them, `{rule, severity, message}`, the message in the reader's language when
 * the finding carries its sentence (findings stored before sentences existed keep their English message).
 * `known` names accounts the caller already knows, which need no lookup.
 */
export async function wordFindings<F extends WordedFinding>(
  db: Db,
  workspaceId: string,
  lang: Lang,
  findings: F[],
  known: AccountRefs = new Map(),
): Promise<Array<{ rule: string; severity: F["severity"]; message: string }>> {
  const ids = findings.flatMap((f) => (f.text ? accountIdsIn(f.text) : [])).filter((id) => !known.has(id));
  const names = ids.length > 0 ? new Map([...known, ...(await accountRefs(db, workspaceId, ids))]) : known;
  return findings.map((f) => ({
    rule: f.rule,
    severity: f.severity,
    message: f.text ? renderText(lang, f.text, names) : f.message,
  }));
}

/**
 * Alerts' summaries in the reader's language, re-rendered from their evidence; an alert whose rule has no
 * sentence keeps its stored summary, with the account ids it names swapped for refs.
 */
export async function alertSummaries(
  db: Db,
  workspaceId: string,
  lang: Lang,
  alerts: Array<{ rule: string; evidence: Record<string, unknown>; summary: string }>,
): Promise<string[]> {
  const texts = alerts.map((a) => findingText(a.rule, a.evidence));
  const ids = alerts.flatMap((a, i) => {
    const found = texts[i];
    return found ? accountIdsIn(found) : [...a.summary.matchAll(/\bacc_[0-9a-z]+\b/gi)].map((m) => m[0]);
  });
  const names = ids.length > 0 ? await accountRefs(db, workspaceId, ids) : new Map();
  return alerts.map((a, i) => {
    const found = texts[i];
    return found ? renderText(lang, found, names) : renderStored(names, a.summary);
  });
}
