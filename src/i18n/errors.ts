/** The API's error messages, chosen by Accept-Language. */
export const en = {} as const;

export const zh: Record<keyof typeof en, string> = {};
