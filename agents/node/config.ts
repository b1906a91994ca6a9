/** Where the agent keeps its config, spool and state, and the config file itself (mode 0600: it holds a token). */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir, platform } from "node:os";
import { join } from "node:path";

export type UnreachablePolicy = "auto" | "fail-open" | "fail-closed";
export const UNREACHABLE_POLICIES: UnreachablePolicy[] = ["auto", "fail-open", "fail-closed"];

export interface AgentConfig {
  server: string;
  token: string;
  /** the workspace id from GET /v1/whoami at init: the device id's salt */
  workspace_id: string;
  profile?: string;
  proxy?: string;
  profile_file?: string;
  on_unreachable?: UnreachablePolicy;
  /** slugs treated as sensitive besides the built-in ones (a workspace may mark more) */
  sensitive_ops?: string[];
  /** the spool's bound in bytes */
  spool_max_bytes?: number;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TETHER_AGENT_CONFIG_DIR) return env.TETHER_AGENT_CONFIG_DIR;
  if (platform() === "win32" && env.APPDATA) return join(env.APPDATA, "tether-agent");
  if (platform() === "darwin") return join(homedir(), "Library", "Application Support", "tether-agent");
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "tether-agent");
}

export const configPath = (dir: string) => join(dir, "config.json");

export class ConfigMissing extends Error {}

export function readConfig(dir: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(configPath(dir), "utf8");
  } catch {
    throw new ConfigMissing(configPath(dir));
  }
  return JSON.parse(text) as AgentConfig;
}

export function writeConfig(dir: string, config: AgentConfig): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = configPath(dir);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}
