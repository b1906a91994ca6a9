/**
 * The device id: one algorithm shared by every tether agent (Node, Python, sh), so one machine reports one id
 * per workspace whichever agent or OS user sends the event. Only the hash leaves the machine.
 *
 *   device_id = "dev_" + first 32 hex of sha256("tether-device-v1\n" + salt + "\n" + machine_id + "\n" +
 *                                               hostname + "\n" + macs)
 *
 * The salt is the workspace id, so two workspaces cannot correlate machines.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, realpathSync } from "node:fs";
import { networkInterfaces, hostname as osHostname, platform } from "node:os";
import { join } from "node:path";

export interface MachineIdentity {
  machineId: string;
  hostname: string;
  /** unique, sorted, lowercased, comma-joined */
  macs: string;
}

const ZERO_MAC = "00:00:00:00:00:00";

function firstLine(path: string): string | null {
  try {
    return readFileSync(path, "utf8").split("\n")[0]!.trim();
  } catch {
    return null;
  }
}

function machineId(env: NodeJS.ProcessEnv): string {
  const override = env.TETHER_AGENT_MACHINE_ID_FILE;
  if (override !== undefined) return firstLine(override) ?? "";
  const linux = firstLine("/etc/machine-id") ?? firstLine("/var/lib/dbus/machine-id");
  if (linux !== null) return linux;
  // Best effort elsewhere: the other agents only read the two Linux files.
  try {
    if (platform() === "win32") {
      const out = execFileSync(
        "reg",
        ["query", "HKLM\\SOFTWARE\\Microsoft\\Cryptography", "/v", "MachineGuid"],
        { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
      );
      return /MachineGuid\s+REG_SZ\s+(\S+)/.exec(out)?.[1] ?? "";
    }
    if (platform() === "darwin") {
      const out = execFileSync("ioreg", ["-rd1", "-c", "IOPlatformExpertDevice"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
      return /"IOPlatformUUID" = "([^"]+)"/.exec(out)?.[1] ?? "";
    }
  } catch {
    // no registry or ioreg: no machine id
  }
  return "";
}

function normalise(macs: Iterable<string>): string {
  const set = new Set<string>();
  for (const mac of macs) {
    const m = mac.trim().toLowerCase();
    if (m && m !== ZERO_MAC) set.add(m);
  }
  return [...set].sort().join(",");
}

function macs(env: NodeJS.ProcessEnv): string {
  const sysNet = env.TETHER_AGENT_SYS_NET ?? (platform() === "linux" ? "/sys/class/net" : null);
  if (sysNet !== null) {
    let names: string[] = [];
    try {
      names = readdirSync(sysNet);
    } catch {
      names = [];
    }
    const found: string[] = [];
    for (const name of names) {
      const entry = join(sysNet, name);
      try {
        // Virtual interfaces (lo, docker0, veth…) are symlinks into /sys/devices/virtual/.
        if (realpathSync(entry).includes("/devices/virtual/")) continue;
      } catch {
        continue;
      }
      const address = firstLine(join(entry, "address"));
      if (address) found.push(address);
    }
    return normalise(found);
  }
  const found: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) if (!info.internal) found.push(info.mac);
  }
  return normalise(found);
}

export function machineIdentity(env: NodeJS.ProcessEnv = process.env): MachineIdentity {
  return {
    machineId: machineId(env),
    hostname: (env.TETHER_AGENT_HOSTNAME ?? osHostname()).toLowerCase(),
    macs: macs(env),
  };
}

export function deviceId(salt: string, identity: MachineIdentity): string {
  const input = `tether-device-v1\n${salt}\n${identity.machineId}\n${identity.hostname}\n${identity.macs}`;
  return `dev_${createHash("sha256").update(input).digest("hex").slice(0, 32)}`;
}
