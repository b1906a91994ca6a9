import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/** Both command lines, run as a user runs them: their help and usage errors follow the locale. */

const bin = (name: string) => fileURLToPath(new URL(`../../bin/${name}`, import.meta.url));
const CJK = /[\u4e00-\u9fff]/;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(name: string, args: string[], locale: string): Promise<Run> {
  return spawnIn(process.execPath, [bin(name), ...args], locale);
}

function spawnIn(file: string, args: string[], locale: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, LANG: locale };
  delete env.LC_ALL;
  delete env.LC_MESSAGES;
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe("the command lines' language", () => {
  it.each([
    ["tether.js", ["help"], "用法：tether <命令>", "usage: tether <command>"],
    ["tether.js", ["--help"], "用法：tether <命令>", "usage: tether <command>"],
    [
      "tether-agent.js",
      ["--help"],
      "用法：tether-agent <命令> [选项]",
      "usage: tether-agent <command> [options]",
    ],
  ])("prints the help of %s %s in Chinese for zh_CN and in English for C", async (name, args, zh, en) => {
    const chinese = await run(name, args, "zh_CN.UTF-8");
    expect(chinese.code).toBe(0);
    expect(chinese.stdout.startsWith(zh)).toBe(true);
    expect(chinese.stdout).not.toMatch(/usage|exit codes|issue a user token/);

    const english = await run(name, args, "C");
    expect(english.code).toBe(0);
    expect(english.stdout.startsWith(en)).toBe(true);
    expect(english.stdout).not.toMatch(CJK);
  });

  it("says tether's usage errors in the locale's language", async () => {
    const chinese = await run("tether.js", ["token", "create"], "zh_CN.UTF-8");
    expect(chinese.code).toBe(2);
    expect(chinese.stderr).toBe("tether: token create 需要 --role viewer|reviewer|admin\n");
    const english = await run("tether.js", ["token", "create"], "C");
    expect(english.code).toBe(2);
    expect(english.stderr).toBe("tether: token create needs --role viewer|reviewer|admin\n");

    const unknown = await run("tether.js", ["frobnicate"], "zh_CN.UTF-8");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^未知命令：frobnicate\n\n用法：tether <命令>/);
  });

  it("says the agent's usage errors in the locale's language, Node's parse errors included", async () => {
    const bad = await run("tether-agent.js", ["check", "--account", "nope"], "zh_CN.UTF-8");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tether-agent check: --account 的格式应为 platform:ref.*实际为 nope\n用法：/);

    const option = await run("tether-agent.js", ["report", "--bogus", "x"], "zh_CN.UTF-8");
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/^tether-agent report: 未知选项 --bogus\n用法：/);

    const english = await run("tether-agent.js", ["check", "--account", "nope"], "C");
    expect(english.code).toBe(2);
    expect(english.stderr).toMatch(/^tether-agent check: --account must be platform:ref .*got nope\nusage:/);
    expect(english.stderr).not.toMatch(CJK);
  });

  it("lets --lang choose over the locale", async () => {
    const english = await run("tether-agent.js", ["--help", "--lang", "en"], "zh_CN.UTF-8");
    expect(english.stdout.startsWith("usage: tether-agent")).toBe(true);
  });

  it.each([
    ["python3", [fileURLToPath(new URL("../../agents/python/tether_agent.py", import.meta.url)), "--help"]],
    ["sh", [fileURLToPath(new URL("../../agents/tether-agent.sh", import.meta.url)), "--help"]],
  ])("prints the help of the %s agent in Chinese for zh_CN and in English for C", async (file, args) => {
    const chinese = await spawnIn(file, args, "zh_CN.UTF-8");
    expect(chinese.code).toBe(0);
    expect(chinese.stdout).toMatch(/^用法：/m);
    expect(chinese.stdout).not.toMatch(/usage|Usage/);

    const english = await spawnIn(file, args, "C");
    expect(english.code).toBe(0);
    expect(english.stdout).toMatch(/usage/i);
    expect(english.stdout).not.toMatch(CJK);
  });
});
