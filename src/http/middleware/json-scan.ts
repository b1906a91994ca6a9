import type { ErrorDetail } from "../../errors.ts";

/** Objects and arrays nest at most this deep in a body: the deepest legal body (attributes) is far shallower. */
export const MAX_JSON_DEPTH = 32;
const MAX_PROBLEMS = 20;
/** In a Unicode regex a surrogate pair is one code point, so only a lone surrogate is of category Cs. */
export const LONE_SURROGATE = /\p{Cs}/u;

interface Frame {
  /** the keys seen so far (objects only) */
  keys: Set<string> | null;
  /** the current member's key, or the current element's index */
  at: string | number;
  expectKey: boolean;
}

/**
 * What `JSON.parse` accepts but tether must refuse, by path (`events.3.env.device_id`): keys given twice (a
 * proxy and tether could read different values), `__proto__` and `constructor.prototype` keys, strings with
 * NUL or a lone UTF-16 surrogate (PostgreSQL's text and jsonb hold neither), nesting beyond `maxDepth`.
 *
 * `text` must be JSON that `JSON.parse` accepted. One pass over the text, no recursion: a body nested 100,000
 * deep costs a loop, not the stack. Only strings with escapes are decoded; a string decoded from UTF-8
 * without escapes can hold neither NUL (JSON forbids it raw) nor a lone surrogate.
 */
export function jsonProblems(text: string, maxDepth = MAX_JSON_DEPTH): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const stack: Frame[] = [];
  const pathTo = () => (stack.length === 0 ? "body" : stack.map((f) => f.at).join("."));
  const report = (message: string) => problems.push({ path: pathTo(), message });
  /** containers still open inside one that was too deep (skipped, not inspected) */
  let skipping = 0;
  const n = text.length;
  /** the next backslash at or after the current string; found once per backslash, so the pass stays linear */
  let nextBackslash = -1;
  for (let i = 0; i < n && problems.length < MAX_PROBLEMS; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (skipping === 0) {
        const frame = stack[stack.length - 1];
        if (nextBackslash <= i) {
          const found = text.indexOf("\\", i + 1);
          nextBackslash = found === -1 ? n : found;
        }
        const hasEscape = nextBackslash < end;
        const isKey = frame?.keys != null && frame.expectKey;
        if (isKey || hasEscape) {
          const value: string = hasEscape ? JSON.parse(text.slice(i, end + 1)) : text.slice(i + 1, end);
          if (isKey) {
            frame.expectKey = false;
            frame.at = value;
            if (frame.keys!.has(value)) report("is given more than once");
            else frame.keys!.add(value);
            if (value === "__proto__") report("is a reserved key");
            if (value === "prototype" && stack[stack.length - 2]?.at === "constructor")
              report("is a reserved key");
          }
          if (hasEscape && value.includes("\u0000")) report("must not contain NUL characters");
          if (hasEscape && LONE_SURROGATE.test(value)) report("must not contain a lone UTF-16 surrogate");
        }
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (skipping > 0) skipping++;
      else if (stack.length >= maxDepth) {
        report(`nests deeper than ${maxDepth} levels of objects and arrays`);
        skipping = 1;
      } else stack.push({ keys: c === 0x7b ? new Set() : null, at: c === 0x7b ? "" : 0, expectKey: true });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (skipping > 0) skipping--;
      else stack.pop();
    } else if (c === 0x2c /* , */ && skipping === 0) {
      const frame = stack[stack.length - 1]!;
      if (frame.keys) frame.expectKey = true;
      else frame.at = (frame.at as number) + 1;
    }
  }
  return problems;
}

/** The index of the quote closing the string that opens at `start`. */
function stringEnd(text: string, start: number): number {
  let j = start + 1;
  for (;;) {
    j = text.indexOf('"', j);
    let backslashes = 0;
    for (let k = j - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return j;
    j++;
  }
}
