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
