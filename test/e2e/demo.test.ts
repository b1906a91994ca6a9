import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, freePort } from "../support/server.ts";

// The demo always runs on a fresh embedded database, so the PostgreSQL run has nothing to add here.
describe.skipIf(Boolean(process.env.DATABASE_URL))("npm run demo", () => {
  it("feeds a simulated matrix through the API and every scenario raises its alert, churn none", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "tether-demo-"));
    try {
      const port = await freePort();
      const child = spawn(process.execPath, [BIN, "demo", "--exit", "--port", String(port)], {
        cwd,
        env: { ...process.env, DATABASE_URL: "" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => {
        stdout += d;
      });
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code, `${stdout}\n${stderr}`).toBe(0);
      expect(stdout).toContain("Admin token / 管理员令牌");
      expect(stdout).toMatch(/Baselines \/ 基线:\s+24 of 24 established/);
      for (const rule of [
        "new_device",
        "new_country",
        "impossible_travel",
        "env_hopping",
        "pin_violation",
        "unbound_environment",
        "shared_device",
        "shared_ip",
        "timezone_mismatch",
        "datacenter_network",
        "locale_changed",
      ]) {
        expect(stdout).toMatch(new RegExp(`✓ ${rule}\\s`));
      }
      expect(stdout).not.toContain("✗");
      // The outage: one detected incident with its improvised actions flagged.
      expect(stdout).toMatch(/Platform incidents \/ 平台故障 \(1\):\n {2}detected · closed/);
      for (const rule of [
        "platform_incident",
        "incident_network_switch",
        "retry_storm",
        "sensitive_op_during_incident",
      ]) {
        expect(stdout).toMatch(new RegExp(`✓ ${rule}\\s`));
      }
      // The contaminated chain a newcomer finds in GET /v1/associations: one cluster of three accounts.
      expect(stdout).toContain("tiktok_shop/us-east-02 · tiktok_shop/us-east-03 · amazon/us-01");
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  }, 120_000);
});
