/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/** A drill's figures on its incident page, each beside the previous drill of the same scope, in the reader's language. */
import { type DrillReport, FIGURES } from "../core/drill-report.ts";
import type { Translate } from "../i18n/index.ts";

const signed = (n: number | null) => (n === null ? "—" : n > 0 ? `+${n}` : String(n));
const shown = (n: number | null) => (n === null ? "—" : String(n));

export function DrillFigures({ t, report }: { t: Translate; report: DrillReport }) {
  const changes = new Map((report.comparison?.changes ?? []).map((c) => [c.figure, c]));
  return (
    <section class="drill-figures">
      <h2>{t("drill.md.figures")}</h2>
      <p class="muted">
        {report.comparison
          ? t("drill.md.compared", {
              id: report.comparison.previous_drill_id,
              at: report.comparison.previous_started_at.replace("T", " ").slice(0, 16),
            })
          : t("drill.md.first_of_scope")}
      </p>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>{t("drill.md.col_figure")}</th>
              <th>{t("drill.md.col_value")}</th>
              <th>{t("drill.md.col_previous")}</th>
              <th>{t("drill.md.col_change")}</th>
              <th>{t("drill.md.col_verdict")}</th>
            </tr>
          </thead>
          <tbody>
            {FIGURES.map((figure) => {
              const c = changes.get(figure);
              const trend = !c || c.improved === null ? null : c.improved ? "better" : "worse";
              return (
                <tr data-figure={figure}>
                  <td>{t(`drill.figure.${figure}`)}</td>
                  <td>{shown(report.figures[figure])}</td>
                  <td>{c ? shown(c.previous) : "—"}</td>
                  <td>{c ? signed(c.change) : "—"}</td>
                  <td class={trend ? `trend-${trend}` : undefined}>{trend ? t(`drill.md.${trend}`) : "—"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
