/** Pre-drill verification: the checks' details and the run's summary (API and command line). */
export const en = {
  "drills.thing": "drill verification",
  "drills.unknown_accounts": "no account {ids} in this workspace",
  "drills.more": "{count} more",

  "drills.baseline.pinned": "baseline pinned",
  "drills.baseline.established": "baseline established",
  "drills.baseline.learning":
    "baseline still learning ({events} {events|event|events} so far); pin it or let it finish learning",

  "drills.alerts.none": "no open consistency or association alert",
  "drills.alerts.open": "{count} open {count|alert|alerts}: {alerts}",
  "drills.alerts.item": "{rule} ({id})",

  "drills.isolation.clean": "no device, IP or subnet shared with another group in the last {days} days",
  "drills.isolation.shared": "shared with another group in the last {days} days: {shares}",
  "drills.isolation.item_group": "{kind} {value} with {account} (group {group})",
  "drills.isolation.item_isolated": "{kind} {value} with {account} (isolated)",
  "drills.kind.device": "device",
  "drills.kind.ip": "IP",
  "drills.kind.subnet": "subnet",

  "drills.heartbeat.fresh": "agent heartbeat {minutes} min ago",
  "drills.heartbeat.stale": "last agent heartbeat {minutes} min ago, more than {limit} min",
  "drills.heartbeat.never": "no agent heartbeat yet from the environments bound to it",
  "drills.heartbeat.unbound": "no environment is bound to this account, so no agent watches it",

  "drills.incident.none": "no active incident on {platform}",
  "drills.incident.active": "{count|an active incident|active incidents} on {platform}: {incidents}",
  "drills.incident.item": "{title} (since {since})",

  "drills.summary.pass": "all {count} {count|account is|accounts are} ready for the drill",
  "drills.summary.fail": "{failed} of {count} {count|account is|accounts are} not ready for the drill",
  "drills.summary.empty": "no account in scope: nothing to verify",
} as const;

export const zh: Record<keyof typeof en, string> = {
  "drills.thing": "演练前验证记录",
  "drills.unknown_accounts": "本工作区没有账号 {ids}",
  "drills.more": "另有 {count} 项",

  "drills.baseline.pinned": "基线已固定",
  "drills.baseline.established": "基线已建立",
  "drills.baseline.learning": "基线仍在学习中（目前 {events} 个事件）；请固定基线或等待学习完成",

  "drills.alerts.none": "没有未处理的一致性或关联告警",
  "drills.alerts.open": "有 {count} 条未处理告警：{alerts}",
  "drills.alerts.item": "{rule}（告警 {id}）",

  "drills.isolation.clean": "最近 {days} 天内未与其他分组共用设备、IP 或网段",
  "drills.isolation.shared": "最近 {days} 天内与其他分组共用：{shares}",
  "drills.isolation.item_group": "{kind} {value}（与 {account} 共用，对方分组 {group}）",
  "drills.isolation.item_isolated": "{kind} {value}（与 {account} 共用，对方为独立账号）",
  "drills.kind.device": "设备",
  "drills.kind.ip": "IP 地址",
  "drills.kind.subnet": "网段",

  "drills.heartbeat.fresh": "代理心跳在 {minutes} 分钟前",
  "drills.heartbeat.stale": "最近一次代理心跳在 {minutes} 分钟前，已超过 {limit} 分钟",
  "drills.heartbeat.never": "绑定的环境尚未发送过代理心跳",
  "drills.heartbeat.unbound": "该账号未绑定任何环境，没有代理在监控它",

  "drills.incident.none": "{platform} 没有进行中的平台故障",
  "drills.incident.active": "{platform} 有 {count} 个进行中的平台故障：{incidents}",
  "drills.incident.item": "{title}（自 {since} 起）",

  "drills.summary.pass": "全部 {count} 个账号均可进行演练",
  "drills.summary.fail": "{count} 个账号中有 {failed} 个尚不具备演练条件",
  "drills.summary.empty": "范围内没有账号，无可验证的内容",
};
