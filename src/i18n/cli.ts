/** The command line's help and messages (tether and tether-agent). */
export const en = {} as const;

export const zh: Record<keyof typeof en, string> = {};
