/** The incident pages, the post-incident review and drills. */
export const en = {} as const;

export const zh: Record<keyof typeof en, string> = {};
