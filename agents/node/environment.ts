/**
 * What an event says about where it comes from: the OS's timezone and locale, the agent's user agent and
 * profile label, or, with a browser-profile file, what that profile presents to the platform instead.
 */
import { readFileSync } from "node:fs";
import { release, type } from "node:os";

/** An anti-detect browser profile's export, as far as tether needs it (every field optional). */
export interface ProfileFile {
  /** the profile's label, sent as env.profile */
  name?: string;
  user_agent?: string;
  /** IANA name, e.g. America/Los_Angeles */
  timezone?: string;
  /** BCP 47, e.g. en-US */
  locale?: string;
  /** the profile's proxy: http://, https:// or socks5:// URL */
  proxy?: string;
}

export class ProfileFileError extends Error {}

const FIELDS = ["name", "user_agent", "timezone", "locale", "proxy"] as const;

export function readProfileFile(path: string): ProfileFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ProfileFileError(`cannot read profile file ${path}: ${(err as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new ProfileFileError(`profile file ${path} must hold a JSON object`);
  const out: ProfileFile = {};
  for (const field of FIELDS) {
    const value = (raw as Record<string, unknown>)[field];
    if (value === undefined || value === null || value === "") continue;
    if (typeof value !== "string")
      throw new ProfileFileError(`profile file ${path}: ${field} must be a string`);
    out[field] = value;
  }
  if (out.timezone && !isTimeZone(out.timezone))
    throw new ProfileFileError(`profile file ${path}: timezone ${out.timezone} is not an IANA name`);
  if (out.locale && !LOCALE.test(out.locale))
    throw new ProfileFileError(
      `profile file ${path}: locale ${out.locale} is not a BCP 47 locale like en-US`,
    );
  return out;
}

const LOCALE = /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$/;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The OS locale as BCP 47 (zh_CN.UTF-8 → zh-CN); C and POSIX say nothing, so Intl's default is used. */
export function osLocale(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const name of ["LC_ALL", "LC_MESSAGES", "LANG"] as const) {
    const value = env[name];
    if (!value) continue;
    const base = value.split(/[.@]/)[0]!.replace(/_/g, "-");
    if (base === "C" || base === "POSIX") break;
    if (LOCALE.test(base)) return base;
  }
  const intl = Intl.DateTimeFormat().resolvedOptions().locale;
  return intl && intl !== "und" && LOCALE.test(intl) ? intl : undefined;
}

export function osTimeZone(): string | undefined {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return tz && isTimeZone(tz) ? tz : undefined;
}

export function agentUserAgent(version: string): string {
  return `tether-agent/${version} (${type()} ${release()}; node ${process.versions.node})`;
}

export interface EventEnv {
  ip?: string;
  device_id?: string;
  user_agent?: string;
  timezone?: string;
  locale?: string;
  profile?: string;
}

export function describeEnvironment(options: {
  version: string;
  deviceId: string;
  ip: string | null;
  profileLabel?: string;
  profileFile?: ProfileFile;
  env?: NodeJS.ProcessEnv;
}): EventEnv {
  const p = options.profileFile ?? {};
  const out: EventEnv = { device_id: options.deviceId };
  if (options.ip) out.ip = options.ip;
  out.user_agent = p.user_agent ?? agentUserAgent(options.version);
  const timezone = p.timezone ?? osTimeZone();
  if (timezone) out.timezone = timezone;
  const locale = p.locale ?? osLocale(options.env);
  if (locale) out.locale = locale;
  const profile = p.name ?? options.profileLabel;
  if (profile) out.profile = profile;
  return out;
}
