/**
 * The command line's help and messages (tether and tether-agent), in the language of LC_ALL, LC_MESSAGES or
 * LANG: Chinese when the first of them that is set starts with `zh` (the agent's rule), English otherwise.
 * Commands, options and their values stay as typed, in both languages.
 */
/** The agent's commands and options: the same words in both languages. */
const AGENT_COMMANDS = `  init --server URL --token T [--profile NAME] [--proxy URL] [--profile-file P.json] [--on-unreachable POLICY]
  whoami
  report --account platform:ref [--type login|operation|heartbeat] [--op SLUG] [--status ok|error] [--code CODE]
  check --account platform:ref --op SLUG
  exec --account platform:ref --op SLUG [--force] -- COMMAND [ARG…]
  heartbeat [--every 60s] [--account platform:ref]
  flush [--max-time 60s]
  status [--json]
`;

export const en = {
  "cli.usage": `usage: tether <command>

  serve                                   run the API (PORT, HOST, DATABASE_URL or TETHER_DATA_DIR)
  migrate                                 apply database migrations and exit
  token create --role R [--name N] [--workspace SLUG]
                                          issue a user token (viewer | reviewer | admin); prints the secret once
  workspace create SLUG [--name N]        create a workspace and print its first admin token once
  demo                                    start a server on a fresh embedded database and feed it a simulated matrix
  drill verify [--platform P] [--group G] [--accounts ID,ID] [--json] [--url URL] [--token T]
                                          ask a running server whether the accounts are ready for a drill
                                          (TETHER_URL, TETHER_TOKEN); exit 0 ready, 1 not ready, 2 usage or
                                          connection error
`,
  "cli.unknown_command": "unknown command: {command}",
  "cli.migrated": "migrations applied",
  "cli.token_role": "token create needs --role viewer|reviewer|admin",
  "cli.no_workspace": 'no workspace "{slug}"',
  "cli.workspace_slug": "workspace create needs a SLUG like acme-agency",
  "cli.workspace_exists": 'workspace "{slug}" already exists',
  "cli.dir_locked_serve":
    "{dir} is in use by another tether process (pid {pid}); stop it first, or give this server its own TETHER_DATA_DIR",
  "cli.dir_locked":
    "{dir} is in use by another tether process (pid {pid}), and a second process on it would lose this change; stop the server first (tokens can also be issued by the running server: POST /v1/tokens with an admin token)",
  "cli.database_unreachable": "cannot reach the database ({code}); start PostgreSQL or check DATABASE_URL",

  "cli.drill_usage":
    "usage: tether drill verify [--platform P] [--group G] [--accounts ID,ID] [--json] [--url URL] [--token T]",
  "cli.drill_needs_token": "drill verify needs a user token: --token T or TETHER_TOKEN",
  "cli.drill_bad_url": "--url must be an http:// or https:// URL, got {value}",
  "cli.drill_unreachable": "cannot reach {url} ({reason}); is the server running? (--url or TETHER_URL)",
  "cli.drill_refused": "{url} answered {status}: {message}",
  "cli.drill_pass": "READY for the drill: {summary}",
  "cli.drill_fail": "NOT READY for the drill: {summary}",
  "cli.drill_col_account": "ACCOUNT",
  "cli.drill_col_baseline": "BASELINE",
  "cli.drill_col_open_alerts": "ALERTS",
  "cli.drill_col_isolation": "ISOLATION",
  "cli.drill_col_heartbeat": "HEARTBEAT",
  "cli.drill_col_incident": "INCIDENT",
  "cli.drill_ok": "ok",
  "cli.drill_failed": "FAIL",
  "cli.drill_failures": "What failed:",
  "cli.drill_run": "run {id}, checked at {at}",

  "agent.usage": `usage: tether-agent <command> [options]

${AGENT_COMMANDS}
common: --config-dir DIR (or TETHER_AGENT_CONFIG_DIR), --lang zh|en, --proxy URL, --profile-file P.json
exit codes: 0 allow · 10 warn · 20 deny · 1 error · 2 usage · 3 event refused (spool full)
policies for an unreachable server (--on-unreachable): auto (fail-closed for sensitive operations, fail-open
for others), fail-open, fail-closed
`,
  "agent.unknown_command": "unknown command {command}",
  "agent.account_required": "--account platform:ref is required",
  "agent.account_format": "--account must be platform:ref (platform a slug [a-z0-9_]{1,32}), got {value}",
  "agent.op_required": "--op SLUG is required",
  "agent.op_format": "--op must be a lowercase slug [a-z0-9_], got {value}",
  "agent.duration_format": "{option} must be a duration like 60s, 5m or 1h, got {value}",
  "agent.duration_positive": "{option} must be positive",
  "agent.init_needs": "init needs --server URL and --token T",
  "agent.policy": "--on-unreachable must be one of {policies}",
  "agent.type": "--type must be login, operation or heartbeat, got {value}",
  "agent.status": "--status must be ok or error, got {value}",
  "agent.code": "--code must be a lowercase code like http_5xx, got {value}",
  "agent.id": "--id must be 1–128 characters",
  "agent.exec_needs": "exec needs -- COMMAND [ARG…]",
  "agent.unknown_option": "unknown option {option}",
  "agent.option_value": "{option} needs a value",
  "agent.unexpected_argument": "unexpected argument {argument}",
} as const;

export const zh: Record<keyof typeof en, string> = {
  "cli.usage": `用法：tether <命令>

  serve                                   运行 API 服务（PORT、HOST、DATABASE_URL 或 TETHER_DATA_DIR）
  migrate                                 执行数据库迁移后退出
  token create --role R [--name N] [--workspace SLUG]
                                          签发用户令牌（viewer | reviewer | admin）；密钥仅显示这一次
  workspace create SLUG [--name N]        创建工作区，并显示其首个管理员令牌（仅显示这一次）
  demo                                    在全新的内嵌数据库上启动服务器，并向其发送模拟的店铺账号矩阵数据
  drill verify [--platform P] [--group G] [--accounts ID,ID] [--json] [--url URL] [--token T]
                                          向运行中的服务器确认账号是否具备演练条件（TETHER_URL、
                                          TETHER_TOKEN）；退出码 0 可以演练，1 尚不具备条件，2 用法错误或
                                          无法连接
`,
  "cli.unknown_command": "未知命令：{command}",
  "cli.migrated": "数据库迁移已完成",
  "cli.token_role": "token create 需要 --role viewer|reviewer|admin",
  "cli.no_workspace": "工作区“{slug}”不存在",
  "cli.workspace_slug": "workspace create 需要一个 SLUG，例如 acme-agency",
  "cli.workspace_exists": "工作区“{slug}”已存在",
  "cli.dir_locked_serve":
    "{dir} 正被另一个 tether 进程（pid {pid}）使用；请先停止该进程，或为本服务器另行指定 TETHER_DATA_DIR",
  "cli.dir_locked":
    "{dir} 正被另一个 tether 进程（pid {pid}）使用，再开一个进程操作它会丢失本次修改；请先停止服务器（也可以让运行中的服务器签发令牌：用管理员令牌调用 POST /v1/tokens）",
  "cli.database_unreachable": "无法连接数据库（{code}）；请启动 PostgreSQL 或检查 DATABASE_URL",

  "cli.drill_usage":
    "用法：tether drill verify [--platform P] [--group G] [--accounts ID,ID] [--json] [--url URL] [--token T]",
  "cli.drill_needs_token": "drill verify 需要用户令牌：--token T 或环境变量 TETHER_TOKEN",
  "cli.drill_bad_url": "--url 必须是 http:// 或 https:// 开头的地址，实际为 {value}",
  "cli.drill_unreachable": "无法连接 {url}（{reason}）；服务器是否在运行？（--url 或 TETHER_URL）",
  "cli.drill_refused": "{url} 返回 {status}：{message}",
  "cli.drill_pass": "可以演练：{summary}",
  "cli.drill_fail": "尚不具备演练条件：{summary}",
  "cli.drill_col_account": "账号",
  "cli.drill_col_baseline": "基线",
  "cli.drill_col_open_alerts": "告警",
  "cli.drill_col_isolation": "隔离",
  "cli.drill_col_heartbeat": "心跳",
  "cli.drill_col_incident": "平台故障",
  "cli.drill_ok": "通过",
  "cli.drill_failed": "未通过",
  "cli.drill_failures": "未通过的检查：",
  "cli.drill_run": "验证记录 {id}，检查时间 {at}",

  "agent.usage": `用法：tether-agent <命令> [选项]

${AGENT_COMMANDS}
通用选项：--config-dir DIR（或环境变量 TETHER_AGENT_CONFIG_DIR）、--lang zh|en、--proxy URL、--profile-file P.json
退出码：0 允许 · 10 警告 · 20 拒绝 · 1 出错 · 2 用法错误 · 3 事件被拒收（本地队列已满）
无法连接服务器时的策略（--on-unreachable）：auto（敏感操作按 fail-closed 拒绝执行，其他操作按
fail-open 放行）、fail-open、fail-closed
`,
  "agent.unknown_command": "未知命令 {command}",
  "agent.account_required": "必须提供 --account platform:ref",
  "agent.account_format":
    "--account 的格式应为 platform:ref（platform 为 [a-z0-9_]{1,32} 的小写标识），实际为 {value}",
  "agent.op_required": "必须提供 --op SLUG",
  "agent.op_format": "--op 必须是 [a-z0-9_] 组成的小写标识，实际为 {value}",
  "agent.duration_format": "{option} 必须是时长，例如 60s、5m 或 1h，实际为 {value}",
  "agent.duration_positive": "{option} 必须大于零",
  "agent.init_needs": "init 需要 --server URL 和 --token T",
  "agent.policy": "--on-unreachable 必须是以下之一：{policies}",
  "agent.type": "--type 必须是 login、operation 或 heartbeat，实际为 {value}",
  "agent.status": "--status 必须是 ok 或 error，实际为 {value}",
  "agent.code": "--code 必须是小写代码，例如 http_5xx，实际为 {value}",
  "agent.id": "--id 的长度必须为 1–128 个字符",
  "agent.exec_needs": "exec 需要在 -- 之后给出 COMMAND [ARG…]",
  "agent.unknown_option": "未知选项 {option}",
  "agent.option_value": "{option} 需要一个取值",
  "agent.unexpected_argument": "多余的参数 {argument}",
};

/** The language of the command line: the agent's rule (agents/node/i18n.ts), in the catalogue's names. */
export function localeLang(env: NodeJS.ProcessEnv = process.env): "en" | "zh-CN" {
  const value = env.LC_ALL ?? env.LC_MESSAGES ?? env.LANG ?? "";
  return value.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}
