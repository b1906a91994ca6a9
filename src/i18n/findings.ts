/** Finding and evidence sentences: what each rule saw, in words, with account refs rather than ids. */
export const en = {} as const;

export const zh: Record<keyof typeof en, string> = {};
