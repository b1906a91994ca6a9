/** The agent's words in English and Simplified Chinese, chosen by --lang or LC_ALL / LC_MESSAGES / LANG. */
export type Lang = "en" | "zh";

export function pickLang(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Lang {
  const value = flag ?? env.LC_ALL ?? env.LC_MESSAGES ?? env.LANG ?? "";
  return value.toLowerCase().startsWith("zh") ? "zh" : "en";
}

const DECISION: Record<Lang, Record<string, string>> = {
  en: { allow: "allow", warn: "warn", deny: "deny" },
  zh: { allow: "允许", warn: "警告", deny: "拒绝" },
};

const SEVERITY_ZH: Record<string, string> = {
  info: "提示",
  low: "低",
  medium: "中",
  high: "高",
  critical: "严重",
};

export function decisionWord(lang: Lang, decision: string): string {
  return DECISION[lang][decision] ?? decision;
}

/** The Accept-Language the agent sends, so the server words findings and reasons in the agent's language. */
export const acceptLanguage = (lang: Lang) => (lang === "zh" ? "zh-CN" : "en");

/** One reason of a preflight answer: the server's message is already in the agent's language. */
export function reasonLine(lang: Lang, r: { rule: string; severity: string; message: string }): string {
  if (lang === "zh") return `  - ${r.rule}（${SEVERITY_ZH[r.severity] ?? r.severity}）：${r.message}`;
  return `  - ${r.rule} (${r.severity}): ${r.message}`;
}

type Catalogue = Record<string, (a: Record<string, string | number>) => string>;

const EN: Catalogue = {
  decision: (a) => `preflight ${a.account} ${a.op}: ${a.decision}`,
  incident: (a) => `  active incident: ${a.title}`,
  unreachable: (a) => `the tether server cannot be reached (${a.why})`,
  policyOpen: (a) => `policy ${a.policy}: fail-open for ${a.op} — proceeding unchecked (exit 10, warn)`,
  policyClosed: (a) => `policy ${a.policy}: fail-closed for ${a.op} — refusing (exit 20, deny)`,
  refused: (a) => `not running the command: ${a.op} on ${a.account} was denied`,
  forced: (a) => `--force: running ${a.op} on ${a.account} despite "${a.decision}"; this is reported`,
  spooled: (a) => `recorded ${a.id} in the spool (${a.pending} pending)`,
  sent: (a) => `sent ${a.sent} event(s) to the server`,
  notSent: (a) => `not sent yet (${a.why}); it stays in the spool until a flush reaches the server`,
  dropped: (a) => `WARNING: the spool is full; dropped the ${a.n} oldest heartbeat(s) to make room`,
  full: (a) => `ERROR: ${a.why}`,
  busy: () => "another agent process is flushing this spool",
  flushed: (a) => `flushed ${a.sent} event(s); ${a.pending} still pending`,
  flushFailed: (a) => `flush stopped: ${a.why} (${a.pending} pending)`,
  rejected: (a) => `WARNING: the server refused ${a.n} event(s); moved to ${a.path}`,
};

const ZH: Catalogue = {
  decision: (a) => `预检 ${a.account} ${a.op}：${a.decision}`,
  incident: (a) => `  进行中的平台故障：${a.title}`,
  unreachable: (a) => `无法连接 tether 服务器（${a.why}）`,
  policyOpen: (a) => `策略 ${a.policy}：${a.op} 按放行处理（fail-open）——未经检查继续执行（退出码 10，警告）`,
  policyClosed: (a) => `策略 ${a.policy}：${a.op} 按拒绝处理（fail-closed）——拒绝执行（退出码 20，拒绝）`,
  refused: (a) => `不执行命令：${a.account} 的 ${a.op} 被拒绝`,
  forced: (a) => `--force：不顾“${a.decision}”仍执行 ${a.account} 的 ${a.op}；此事将被上报`,
  spooled: (a) => `已将 ${a.id} 写入本地队列（待发送 ${a.pending} 条）`,
  sent: (a) => `已向服务器发送 ${a.sent} 条事件`,
  notSent: (a) => `暂未发送（${a.why}）；事件保留在本地队列中，直到 flush 连上服务器`,
  dropped: (a) => `警告：本地队列已满，已丢弃最早的 ${a.n} 条心跳以腾出空间`,
  full: (a) => `错误：${a.why}`,
  busy: () => "另一个 agent 进程正在发送此队列",
  flushed: (a) => `已发送 ${a.sent} 条事件；仍有 ${a.pending} 条待发送`,
  flushFailed: (a) => `发送中止：${a.why}（待发送 ${a.pending} 条）`,
  rejected: (a) => `警告：服务器拒收 ${a.n} 条事件，已移至 ${a.path}`,
};

export function say(lang: Lang, key: keyof typeof EN, args: Record<string, string | number> = {}): string {
  return (lang === "zh" ? ZH : EN)[key]!(args);
}
