import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deviceId, machineIdentity } from "../../agents/node/device.ts";
import { simulatedMachine } from "../support/agent.ts";

describe("the agents' device id", () => {
  it("is the documented hash (vectors computed with Python's hashlib, as the other agents do)", () => {
    expect(deviceId("ws_1", { machineId: "abc", hostname: "host", macs: "aa:bb:cc:dd:ee:ff" })).toBe(
      "dev_ffac62e27a4b71dea72406de912570ae",
    );
    expect(deviceId("ws_1", { machineId: "", hostname: "", macs: "" })).toBe(
      "dev_b5d8ffd8b761a2bc23517204640f4d5c",
    );
  });

  it("reads the machine id, the lowercased hostname and the physical MACs only", async () => {
    const m = await simulatedMachine("Build-Box-7");
    const identity = machineIdentity({ ...m.env });
    expect(identity).toEqual({
      machineId: m.machineId,
      hostname: "build-box-7",
      // lo is a link into devices/virtual; eth0's MAC was written in upper case
      macs: [...m.macs]
        .map((x) => x.toLowerCase())
        .sort()
        .join(","),
    });
  });

  it("is salted by workspace and differs between machines", async () => {
    const a = machineIdentity((await simulatedMachine()).env);
    const b = machineIdentity((await simulatedMachine()).env);
    expect(deviceId("ws_1", a)).toBe(deviceId("ws_1", { ...a }));
    expect(deviceId("ws_1", a)).not.toBe(deviceId("ws_1", b));
    expect(deviceId("ws_1", a)).not.toBe(deviceId("ws_2", a));
  });

  it("falls back to an empty machine id when the file is missing", () => {
    expect(
      machineIdentity({
        TETHER_AGENT_MACHINE_ID_FILE: "/nonexistent/machine-id",
        TETHER_AGENT_HOSTNAME: "h",
        TETHER_AGENT_SYS_NET: "/nonexistent",
      }),
    ).toEqual({
      machineId: "",
      hostname: "h",
      macs: "",
    });
  });
});

interface Vector {
  name: string;
  salt: string;
  machine_id_file: string | null;
  hostname: string;
  interfaces: Array<{ name: string; target: string | null; address: string | null }>;
  expected_macs: string;
  expected: string;
}

describe("one device id for all three agents", () => {
  // The same known answers the shell agent and the Python module are tested against (agents/python/tests):
  // a workstation reporting through two agents must show one device, not two.
  const { vectors } = JSON.parse(
    readFileSync(new URL("../fixtures/device-id-vectors.json", import.meta.url), "utf8"),
  ) as { vectors: Vector[] };

  it.each(vectors.map((v) => [v.name, v] as const))("gives the shared answer for %s", async (_, v) => {
    const root = await mkdtemp(join(tmpdir(), "tether-vector-"));
    try {
      const sysNet = join(root, "sys", "class", "net");
      await mkdir(sysNet, { recursive: true });
      for (const i of v.interfaces) {
        let dir = join(sysNet, i.name);
        if (i.target !== null) {
          dir = join(sysNet, i.target);
          await mkdir(dir, { recursive: true });
          await symlink(i.target, join(sysNet, i.name));
        } else {
          await mkdir(dir, { recursive: true });
        }
        if (i.address !== null) await writeFile(join(dir, "address"), i.address);
      }
      const machineIdFile = join(root, "machine-id");
      if (v.machine_id_file !== null) await writeFile(machineIdFile, v.machine_id_file);
      const identity = machineIdentity({
        TETHER_AGENT_MACHINE_ID_FILE: machineIdFile,
        TETHER_AGENT_HOSTNAME: v.hostname,
        TETHER_AGENT_SYS_NET: sysNet,
      });
      expect(identity.macs).toBe(v.expected_macs);
      expect(deviceId(v.salt, identity)).toBe(v.expected);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
