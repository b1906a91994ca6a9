/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** The parts of a case page that explain it beyond its findings: the score's likelihoods and the related accounts. */
import type { RiskFactor } from "../core/risk.ts";
import type { MessageKey, Translate } from "../i18n/index.ts";
import type { AlertRow } from "../store/alerts.ts";
import type { AccountName } from "../store/cases.ts";
import { accountText, Time } from "./pages.tsx";

/** The score of one event and the likelihoods behind it, as the judge stored them with its findings. */
export interface EventRisk {
  eventId: string;
  score: number;
  factors: RiskFactor[];
}

/** The distinct events of a case's findings that carry their score's explanation, newest finding first. */
export function risksOf(alerts: AlertRow[]): EventRisk[] {
  const out = new Map<string, EventRisk>();
  for (const a of alerts) {
    const risk = (a.evidence as { risk?: { event_id?: unknown; score?: unknown; factors?: unknown } }).risk;
    if (typeof risk?.event_id !== "string" || out.has(risk.event_id)) continue;
    if (typeof risk.score !== "number" || !Array.isArray(risk.factors)) continue;
    out.set(risk.event_id, {
      eventId: risk.event_id,
      score: risk.score,
      factors: risk.factors as RiskFactor[],
    });
  }
  return [...out.values()];
}

const percent = (p: number) =>
  p >= 0.01
    ? `${(p * 100).toFixed(p >= 0.1 ? 0 : 1)} %`
    : p >= 0.0001
      ? `${(p * 100).toFixed(2)} %`
      : "< 0.01 %";

export function RiskFactors({ t, risks }: { t: Translate; risks: EventRisk[] }) {
  if (risks.length === 0) return null;
  return (
    <>
      <h2>{t("risk.title")}</h2>
      <p class="muted">{t("risk.intro")}</p>
      {risks.map((r) => (
        <div class="card risk" data-event={r.eventId}>
          <p>
            {t("risk.score", { score: r.score })} <span class="muted">{r.eventId}</span>
          </p>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th>{t("baseline.kind")}</th>
                  <th>{t("baseline.value")}</th>
                  <th>{t("risk.p_workspace")}</th>
                  <th>{t("risk.p_account")}</th>
                  <th>{t("risk.weight")}</th>
                </tr>
              </thead>
              <tbody>
                {r.factors.flatMap((f) =>
                  [...f.levels].reverse().map((level, i) => (
                    <tr class={i === 0 ? "factor" : "level"}>
                      <td>{t(`kind.${level.kind}` as MessageKey)}</td>
                      <td class="mono">{level.value}</td>
                      <td>{percent(level.p_workspace)}</td>
                      <td>{percent(level.p_account)}</td>
                      <td>
                        {i === 0
                          ? t(f.log_ratio > 0 ? "risk.raises" : "risk.lowers", {
                              weight: Math.abs(f.log_ratio).toFixed(1),
                            })
                          : ""}
                      </td>
                    </tr>
                  )),
                )}
              </tbody>
            </table>
          </div>
        </div>
      ))}
    </>
  );
}

/** Another account that shared a device, IP or subnet with one of the case's accounts. */
export interface RelatedLine {
  accountId: string;
  otherId: string;
  kind: "device" | "ip" | "subnet";
  value: string;
  lastSeenAt: Date;
  allowed: boolean;
}

export function RelatedAccounts({
  t,
  related,
  names,
}: {
  t: Translate;
  related: RelatedLine[];
  names: Map<string, AccountName>;
}) {
  return (
    <>
      <h2>{t("related.title")}</h2>
      {related.length === 0 ? (
        <p class="muted">{t("related.none")}</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>{t("related.account")}</th>
                <th>{t("related.shared")}</th>
                <th>{t("related.with")}</th>
                <th>{t("baseline.last_seen")}</th>
              </tr>
            </thead>
            <tbody>
              {related.map((r) => (
                <tr>
                  <td>
                    <a href={`/console/accounts/${r.otherId}`}>{accountText(names, r.otherId)}</a>
                    {names.get(r.otherId)?.group ? (
                      <span class="muted">
                        {" "}
                        · {t("graph.group", { group: names.get(r.otherId)!.group! })}
                      </span>
                    ) : null}
                  </td>
                  <td>
                    {t(`kind.${r.kind}` as MessageKey)} <span class="mono">{r.value}</span>
                    {r.allowed ? <span class="muted"> ({t("related.allowed")})</span> : null}
                  </td>
                  <td>{accountText(names, r.accountId)}</td>
                  <td>
                    <Time at={r.lastSeenAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
