import { ApiError, say } from "../errors.ts";

/** Cursors are the last id of a page, wrapped so clients treat them as opaque. */
export function encodeCursor(id: string): string {
  return Buffer.from(id, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string | undefined): string | null {
  if (!cursor) return null;
  const id = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^[a-z]+_[0-9a-z]{26}$/.test(id)) {
    throw new ApiError("bad_request", say("api.invalid_cursor"), [
      { path: "cursor", message: "is not a cursor this API issued" },
    ]);
  }
  return id;
}

export function page<T extends { id: string }>(
  items: T[],
  limit: number,
): { items: T[]; next_cursor: string | null } {
  const more = items.length > limit;
  const shown = more ? items.slice(0, limit) : items;
  return { items: shown, next_cursor: more ? encodeCursor(shown[shown.length - 1]!.id) : null };
}
