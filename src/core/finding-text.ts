/**
 * A finding's sentence, chosen from its evidence alone, so a stored alert or event can be put into words
 * again later, in any language. Accounts stay ids inside the text (`{account_id}` parameters): erasure
 * replaces an id by its tombstone everywhere it is stored, and each reader swaps ids for `platform/ref`.
 */
import { type Lang, type MessageKey, translator } from "../i18n/index.ts";
import { isNetworkType, type NetworkType } from "./enrich/network-types.ts";

/**
 * A sentence's parameter: a literal, an account (rendered as `platform/ref`), a list (joined the way the
 * language joins lists) or a phrase of its own from the catalogue.
 */
export type TextParam =
  | string
  | number
  | { account_id: string }
  | { list: TextParam[] }
  | { key: MessageKey; params?: Record<string, TextParam> };

export interface FindingText {
  key: MessageKey;
  params: Record<string, TextParam>;
}

/** How accounts are named in human text. */
export type AccountRefs = ReadonlyMap<string, { platform: string; ref: string }>;

type Evidence = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const values = (v: unknown): Array<string | number> =>
  Array.isArray(v)
    ? v.filter((x): x is string | number => typeof x === "string" || typeof x === "number")
    : [];
const part = (key: MessageKey, params?: Record<string, TextParam>): TextParam =>
  params ? { key, params } : { key };
/** What the baseline held: a list, or "none yet" when it held nothing of that kind. */
const known = (items: Array<string | number>): TextParam =>
  items.length > 0 ? { list: items } : part("finding.part.none");
const networkTypeKey = (t: NetworkType): MessageKey => `finding.part.network_type.${t}`;
const asn = (n: string | number) => (String(n).startsWith("AS") ? String(n) : `AS${n}`);

/** "203.0.113.7 (AS64500 Example Net, Tokyo, JP-13)": an IP with what is known of where it is. */
function address(e: Evidence): string | null {
  const ip = str(e.ip);
  if (!ip) return null;
  const a = num(e.asn);
  const network = a !== null ? `AS${a}${str(e.asn_org) ? ` ${e.asn_org}` : ""}` : null;
  const extra = [network, str(e.city), str(e.region) ?? str(e.country)].filter(Boolean).join(", ");
  return extra ? `${ip} (${extra})` : ip;
}

/** "UTC+09:00" */
function utcOffset(minutes: number | null): string {
  if (minutes === null) return "UTC";
  const sign = minutes < 0 ? "-" : "+";
  const m = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

const text = (key: MessageKey, params: Record<string, TextParam>): FindingText => ({ key, params });

const PIN_DIMENSIONS = {
  cidrs: ["finding.pin_violation.cidrs", "finding.pin_violation_unknown.cidrs"],
  asns: ["finding.pin_violation.asns", "finding.pin_violation_unknown.asns"],
  countries: ["finding.pin_violation.countries", "finding.pin_violation_unknown.countries"],
  regions: ["finding.pin_violation.regions", "finding.pin_violation_unknown.regions"],
  timezones: ["finding.pin_violation.timezones", "finding.pin_violation_unknown.timezones"],
  locales: ["finding.pin_violation.locales", null],
  device_ids: ["finding.pin_violation.device_ids", null],
  network_types: ["finding.pin_violation.network_types", "finding.pin_violation_unknown.network_types"],
} as const satisfies Record<string, readonly [MessageKey, MessageKey | null]>;

function shared(key: MessageKey) {
  return (e: Evidence): FindingText | null => {
    const value = str(e.value);
    const accounts = Array.isArray(e.accounts) ? (e.accounts as Evidence[]) : [];
    const [mine, other] = accounts;
    const mineId = str(mine?.account_id);
    const otherId = str(other?.account_id);
    if (!value || !mineId || !otherId) return null;
    const group = (g: unknown) =>
      str(g) ? part("finding.part.group", { group: String(g) }) : part("finding.part.no_group");
    return text(key, {
      value,
      account: { account_id: mineId },
      group: group(mine?.group),
      other: { account_id: otherId },
      other_group: group(other?.group),
    });
  };
}

/** One reader per rule id: the sentence and its parameters, or null when the evidence lacks what it needs. */
const SENTENCES: Record<string, (e: Evidence) => FindingText | null> = {
  new_ip(e) {
    const where = address(e);
    if (!where) return null;
    if (e.familiar === true && str(e.subnet))
      return text("finding.new_ip_familiar", { address: where, subnet: String(e.subnet) });
    const n = num(e.known_ips);
    return n === null ? null : text("finding.new_ip", { address: where, known: n });
  },
  new_network(e) {
    const a = num(e.asn);
    const ip = str(e.ip);
    if (a === null || !ip) return null;
    const network = `AS${a}${str(e.asn_org) ? ` ${e.asn_org}` : ""}`;
    return text("finding.new_network", { network, ip, known: known(values(e.known_asns).map(asn)) });
  },
  datacenter_network(e) {
    const a = num(e.asn);
    const ip = str(e.ip);
    const type = str(e.network_type);
    if (a === null || !ip || !type || !isNetworkType(type)) return null;
    const network = `AS${a}${str(e.asn_org) ? ` ${e.asn_org}` : ""}`;
    const kinds = values(e.known_types)
      .map(String)
      .filter(isNetworkType)
      .map((t) => part(networkTypeKey(t)));
    return text("finding.datacenter_network", {
      network,
      ip,
      type: part(networkTypeKey(type)),
      known: kinds.length > 0 ? { list: kinds } : part("finding.part.none"),
    });
  },
  new_country(e) {
    const where = address(e);
    const country = str(e.country);
    if (!where || !country) return null;
    return text("finding.new_country", { country, address: where, known: known(values(e.known_countries)) });
  },
  new_region(e) {
    const where = address(e);
    const region = str(e.region);
    if (!where || !region) return null;
    return text("finding.new_region", { region, address: where, known: known(values(e.known_regions)) });
  },
  new_device(e) {
    const device = str(e.device_id);
    const n = num(e.known_devices);
    if (!device || n === null) return null;
    const profile = str(e.profile);
    return profile
      ? text("finding.new_device_profile", { device, profile, known: n })
      : text("finding.new_device", { device, known: n });
  },
  ua_changed(e) {
    const browser = str(e.browser);
    if (browser)
      return text("finding.ua_changed_browser", { family: browser, known: known(values(e.known_browsers)) });
    const os = str(e.os);
    if (os) return text("finding.ua_changed_os", { family: os, known: known(values(e.known_oss)) });
    return null;
  },
  locale_changed(e) {
    const locale = str(e.locale);
    if (!locale) return null;
    const languages = values(e.known_languages);
    // A new language, not another variant of a known one: say so.
    if (typeof e.language === "string" && languages.length > 0 && !languages.includes(e.language))
      return text("finding.locale_new_language", { locale, known: known(values(e.known_locales)) });
    return text("finding.locale_changed", { locale, known: known(values(e.known_locales)) });
  },
  timezone_mismatch(e) {
    const timezone = str(e.timezone);
    if (!timezone) return null;
    const ipTimezone = str(e.ip_timezone);
    const ip = str(e.ip);
    if (ipTimezone && ip) {
      return text("finding.timezone_mismatch_geo", {
        timezone,
        offset: utcOffset(num(e.device_offset_minutes)),
        ip,
        ip_timezone: ipTimezone,
        ip_offset: utcOffset(num(e.ip_offset_minutes)),
      });
    }
    return text("finding.timezone_new", { timezone, known: known(values(e.known_timezones)) });
  },
  impossible_travel(e) {
    const from = str((e.from as Evidence | undefined)?.place);
    const to = str((e.to as Evidence | undefined)?.place);
    const distance = num(e.distance_km);
    if (!from || !to || distance === null) return null;
    const speed = num(e.speed_kmh);
    const max = num(e.max_kmh);
    if (speed === null) return text("finding.impossible_travel_instant", { distance, from, to });
    return max === null ? null : text("finding.impossible_travel", { distance, from, to, speed, max });
  },
  env_hopping(e) {
    const ips = values(e.ips);
    if (ips.length === 0) return null;
    return text("finding.env_hopping", {
      ips: ips.length,
      asns: values(e.asns).length,
      list: { list: ips },
    });
  },
  pin_violation(e) {
    const dimension = str(e.dimension);
    if (!dimension || !(dimension in PIN_DIMENSIONS)) return null;
    const [seen, unknown] = PIN_DIMENSIONS[dimension as keyof typeof PIN_DIMENSIONS];
    const pinned = values(e.pinned).map((v) => (dimension === "asns" ? asn(v) : v));
    const value = e.value;
    if (typeof value === "string" || typeof value === "number")
      return text(seen, { value, pinned: { list: pinned } });
    return unknown ? text(unknown, { pinned: { list: pinned } }) : null;
  },
  unbound_environment(e) {
    const environment = str(e.environment_id);
    return environment ? text("finding.unbound_environment", { environment }) : null;
  },
  shared_device: shared("finding.shared_device"),
  shared_ip: shared("finding.shared_ip"),
  shared_subnet: shared("finding.shared_subnet"),
  incident_network_switch(e) {
    const platform = str(e.platform);
    const title = str(e.incident_title);
    const switched = values(e.switched).map(String);
    if (!platform || !title || switched.length === 0) return null;
    const parts = switched.map((s): TextParam => {
      const [kind, ...rest] = s.split(":");
      const value = rest.join(":");
      if (kind === "ip") return part("finding.part.ip", { ip: value });
      if (kind === "asn") return part("finding.part.network", { asn: value.replace(/^AS/, "") });
      if (kind === "device") return part("finding.part.device", { device: value });
      return s;
    });
    return text("finding.incident_network_switch", { switched: { list: parts }, platform, title });
  },
  retry_storm(e) {
    const logins = num(e.logins);
    const failed = num(e.failed);
    const limit = num(e.limit);
    if (logins === null || failed === null || limit === null) return null;
    const key = str(e.incident_id) ? "finding.retry_storm_incident" : "finding.retry_storm";
    return text(key, { logins, failed, limit });
  },
  sensitive_op_during_incident(e) {
    const operation = str(e.operation);
    const platform = str(e.platform);
    const title = str(e.incident_title);
    if (!operation || !platform || !title) return null;
    return text("finding.sensitive_op_during_incident", { operation, platform, title });
  },
};

/** The sentence of a finding of `rule` with this evidence; null for a rule without one or evidence too old. */
export function findingText(rule: string, evidence: Record<string, unknown>): FindingText | null {
  return Object.hasOwn(SENTENCES, rule) ? SENTENCES[rule]!(evidence) : null;
}

/**
 * Renders a sentence. With `names`, accounts read `platform/ref` (one not named there is a deleted account);
 * without, they stay ids: the stored form, which erasure can still find.
 */
export function renderText(lang: Lang, message: FindingText, names?: AccountRefs): string {
  const t = translator(lang);
  const separator = lang === "zh-CN" ? "、" : ", ";
  const render = (p: TextParam): string => {
    if (typeof p === "string" || typeof p === "number") return String(p);
    if ("account_id" in p) {
      if (!names) return p.account_id;
      const a = names.get(p.account_id);
      return a ? `${a.platform}/${a.ref}` : t("finding.part.deleted_account");
    }
    if ("list" in p) return p.list.map(render).join(separator);
    return t(p.key, Object.fromEntries(Object.entries(p.params ?? {}).map(([k, v]) => [k, render(v)])));
  };
  return render(message);
}

/** The account ids a sentence names, so a reader can look up their refs in one go. */
export function accountIdsIn(message: FindingText): string[] {
  const out = new Set<string>();
  const walk = (p: TextParam) => {
    if (typeof p !== "object") return;
    if ("account_id" in p) out.add(p.account_id);
    else if ("list" in p) p.list.forEach(walk);
    else Object.values(p.params ?? {}).forEach(walk);
  };
  walk(message);
  return [...out];
}

/**
 * What a new finding says: its sentence and the English rendering that is stored as its message and alert
 * summary. The one place that puts findings into words.
 */
export function describeFinding(rule: string, evidence: Record<string, unknown>) {
  const found = findingText(rule, evidence) ?? text("finding.generic", { rule });
  return { text: found, message: renderText("en", found) };
}

/**
 * An alert's or event's sentence in the reader's language: re-rendered from the evidence when its rule has
 * a sentence, else the stored text (written before sentences existed) with known account ids swapped.
 */
export function renderFinding(
  lang: Lang,
  names: AccountRefs,
  rule: string,
  evidence: Record<string, unknown>,
  stored: string,
): string {
  const found = findingText(rule, evidence);
  return found ? renderText(lang, found, names) : renderStored(names, stored);
}

/** Stored text with the account ids it names swapped for `platform/ref`. */
export function renderStored(names: AccountRefs, stored: string): string {
  return stored.replace(/\bacc_[0-9a-z]+\b/gi, (id) => {
    const a = names.get(id);
    return a ? `${a.platform}/${a.ref}` : id;
  });
}
