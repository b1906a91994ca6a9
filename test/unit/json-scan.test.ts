import { describe, expect, it } from "vitest";
import { jsonProblems, MAX_JSON_DEPTH } from "../../src/http/middleware/json-scan.ts";

const paths = (text: string) => jsonProblems(text).map((p) => p.path);

describe("jsonProblems", () => {
  it("finds nothing in ordinary JSON, escapes and all", () => {
    expect(
      jsonProblems('{"a":"x\\"}","b":["\\\\",{"c":"\\u00e9\\ud83d\\ude00"}],"d":1.5e3,"e":null}'),
    ).toEqual([]);
    expect(jsonProblems('"\\u0041"')).toEqual([]);
    expect(jsonProblems("[]")).toEqual([]);
  });

  it("sees a key given twice even when one spelling is escaped", () => {
    expect(paths('{"a":1,"b":{"k":1,"\\u006b":2}}')).toEqual(["b.k"]);
    expect(paths('{"a":1,"a":1}')).toEqual(["a"]);
  });

  it("keeps the same key in sibling objects apart", () => {
    expect(paths('[{"k":1},{"k":2}]')).toEqual([]);
  });

  it("names array elements by index", () => {
    expect(paths('{"events":[{"id":"a"},{"id":"b\\u0000"}]}')).toEqual(["events.1.id"]);
  });

  it("finds NUL and lone surrogates in values and keys, not a surrogate pair", () => {
    expect(paths('{"a":"\\ud800","b":"x\\udc00","c":"\\ud83d\\ude00","\\u0000":1}')).toEqual([
      "a",
      "b",
      "\u0000",
    ]);
  });

  it("refuses __proto__ anywhere and prototype under constructor only", () => {
    expect(paths('{"x":{"__proto__":{}},"constructor":{"prototype":1},"prototype":2}')).toEqual([
      "x.__proto__",
      "constructor.prototype",
    ]);
  });

  it("stops at the depth limit, skips what is below and goes on after it", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const problems = jsonProblems(`{"a":${deep},"b":"\\ud800"}`);
    expect(problems.map((p) => p.path)).toEqual([`a${".0".repeat(MAX_JSON_DEPTH - 1)}`, "b"]);
    expect(problems[0]!.message).toMatch(/deeper than 32/);
    expect(jsonProblems("[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH))).toEqual([]);
  });

  it("reports at most 20 problems", () => {
    const text = JSON.stringify(Array.from({ length: 50 }, () => "\u0000"));
    expect(jsonProblems(text)).toHaveLength(20);
  });
});
