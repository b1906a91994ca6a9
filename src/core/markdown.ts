/** Markdown for the reports people download (recovery reviews, drill reports): one cell, one table. */

/** A table cell: empty shows as a dash; pipes are escaped and line breaks folded, so a value cannot break the row. */
export const mdCell = (value: unknown) =>
  value === null || value === undefined || value === ""
    ? "—"
    : String(value)
        .replace(/\|/g, "\\|")
        .replace(/\s*\n\s*/g, " ");

export const mdTable = (head: string[], body: unknown[][]) =>
  [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...body.map((r) => `| ${r.map(mdCell).join(" | ")} |`),
  ].join("\n");
