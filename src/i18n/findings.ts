/**
 * Finding and evidence sentences: what each rule saw, and what the account's baseline, pin or isolation
 * expected, in words, with account refs rather than ids. src/core/finding-text.ts picks the sentence and
 * its parameters from a finding's evidence; `finding.part.*` are the pieces some sentences are built from.
 */
export const en = {
  "finding.new_ip": "New IP {address}: not among the addresses this account has used ({known})",
  "finding.new_ip_familiar":
    "New IP {address} inside a subnet ({subnet}) and network this account already uses",
  "finding.new_network": "New network {network} (IP {ip}); this account has used {known}",
  "finding.datacenter_network":
    "Network {network} (IP {ip}) is a {type} network; this account has worked only from these kinds of network: {known}",
  "finding.new_country": "New country {country}, from {address}; this account has been used from {known}",
  "finding.new_region": "New region {region}, from {address}; this account has been used in {known}",
  "finding.new_device": "New device {device}: not among the devices this account has used ({known})",
  "finding.new_device_profile":
    "New device {device} (browser profile {profile}): not among the devices this account has used ({known})",
  "finding.ua_changed_browser": "Browser changed to {family}; this account has used {known}",
  "finding.ua_changed_os": "Operating system changed to {family}; this account has used {known}",
  "finding.locale_changed": "Browser language changed to {locale}; this account has used {known}",
  "finding.locale_new_language":
    "Browser language changed to {locale}, a language this account has never used (it has used {known}): another person's browser?",
  "finding.timezone_mismatch_geo":
    "Device timezone {timezone} ({offset}) does not match IP {ip}, which is in {ip_timezone} ({ip_offset})",
  "finding.timezone_new": "Timezone {timezone} is new for this account; it has used {known}",
  "finding.impossible_travel":
    "{distance} km between {from} and {to} at {speed} km/h, over the {max} km/h that travel allows",
  "finding.impossible_travel_instant": "{distance} km between {from} and {to} at the same instant",
  "finding.env_hopping":
    "{ips} IPs across {asns} {asns|network|networks} within one hour ({list}); an account should keep to one network",
  "finding.pin_violation.cidrs": "IP {value} is outside the pinned address ranges ({pinned})",
  "finding.pin_violation.asns": "Network AS{value} is not one of the pinned networks ({pinned})",
  "finding.pin_violation.countries": "Country {value} is not one of the pinned countries ({pinned})",
  "finding.pin_violation.regions": "Region {value} is not one of the pinned regions ({pinned})",
  "finding.pin_violation.timezones": "Timezone {value} is not one of the pinned timezones ({pinned})",
  "finding.pin_violation.locales": "Browser language {value} is not one of the pinned languages ({pinned})",
  "finding.pin_violation.device_ids": "Device {value} is not one of the pinned devices ({pinned})",
  "finding.pin_violation.network_types":
    "Network type {value} is not one of the pinned network types ({pinned})",
  "finding.pin_violation_unknown.network_types":
    "The event's network type is unknown, so it cannot be shown to be one of the pinned types ({pinned})",
  "finding.pin_violation_unknown.cidrs":
    "The event has no IP address, so it cannot be shown to be inside the pinned ranges ({pinned})",
  "finding.pin_violation_unknown.asns":
    "The event's network is unknown, so it cannot be shown to be one of the pinned networks ({pinned})",
  "finding.pin_violation_unknown.countries":
    "The event's country is unknown, so it cannot be shown to be one of the pinned countries ({pinned})",
  "finding.pin_violation_unknown.regions":
    "The event's region is unknown, so it cannot be shown to be one of the pinned regions ({pinned})",
  "finding.pin_violation_unknown.timezones":
    "The event has no timezone, so it cannot be shown to be one of the pinned timezones ({pinned})",
  "finding.unbound_environment":
    "Reported from environment {environment}, which is not bound to this account",
  "finding.shared_device":
    "Device {value} is also used by {other} ({other_group}), which must stay isolated from {account} ({group})",
  "finding.shared_ip":
    "IP {value} is also used by {other} ({other_group}), which must stay isolated from {account} ({group})",
  "finding.shared_subnet":
    "Subnet {value} is also used by {other} ({other_group}), which must stay isolated from {account} ({group})",
  "finding.incident_network_switch":
    "Switched to {switched} during the {platform} incident “{title}”; this account had not used them before",
  "finding.retry_storm": "{logins} login attempts within 10 minutes, {failed} of them failed (limit {limit})",
  "finding.retry_storm_incident":
    "{logins} login attempts within 10 minutes during a platform incident, {failed} of them failed (limit {limit})",
  "finding.sensitive_op_during_incident":
    "Sensitive operation {operation} during the {platform} incident “{title}”; it should wait until the platform recovers",
  "finding.override": "Allowed by break-glass override {id} from {by} until {until}: {reason}",
  "finding.generic": "A finding of rule {rule}",
  "finding.part.ip": "IP {ip}",
  "finding.part.network": "network AS{asn}",
  "finding.part.device": "device {device}",
  "finding.part.group": "group {group}",
  "finding.part.no_group": "no group",
  "finding.part.none": "none yet",
  "finding.part.network_type.residential": "residential",
  "finding.part.network_type.mobile": "mobile",
  "finding.part.network_type.hosting": "hosting/datacenter",
  "finding.part.network_type.vpn": "VPN/proxy",
  "finding.part.deleted_account": "a deleted account",
  "preflight.break_glass":
    "Do not work around this. If it must happen now, a reviewer can allow {operation} for this account for a limited time: POST {path} with the operation, minutes and a reason (audited).",
} as const;

export const zh: Record<keyof typeof en, string> = {
  "finding.new_ip": "新 IP {address}：不在该账号用过的 {known} 个地址之中",
  "finding.new_ip_familiar": "新 IP {address}，但属于该账号已在使用的网段（{subnet}）和网络",
  "finding.new_network": "新网络 {network}（IP {ip}）；该账号用过的网络：{known}",
  "finding.datacenter_network":
    "网络 {network}（IP {ip}）属于{type}网络；该账号只在这些类型的网络上操作过：{known}",
  "finding.new_country": "新国家/地区 {country}，来自 {address}；该账号以往所在国家/地区：{known}",
  "finding.new_region": "新地区 {region}，来自 {address}；该账号以往所在地区：{known}",
  "finding.new_device": "新设备 {device}：不在该账号用过的 {known} 台设备之中",
  "finding.new_device_profile":
    "新设备 {device}（浏览器配置 {profile}）：不在该账号用过的 {known} 台设备之中",
  "finding.ua_changed_browser": "浏览器变为 {family}；该账号用过的浏览器：{known}",
  "finding.ua_changed_os": "操作系统变为 {family}；该账号用过的操作系统：{known}",
  "finding.locale_changed": "浏览器语言变为 {locale}；该账号用过的语言：{known}",
  "finding.locale_new_language":
    "浏览器语言变为 {locale}，这是该账号从未用过的语言（用过的：{known}）：是否是其他人的浏览器？",
  "finding.timezone_mismatch_geo":
    "设备时区 {timezone}（{offset}）与 IP {ip} 所在时区 {ip_timezone}（{ip_offset}）不符",
  "finding.timezone_new": "时区 {timezone} 对该账号是新的；该账号用过的时区：{known}",
  "finding.impossible_travel":
    "{from} 与 {to} 相距 {distance} 公里，折合时速 {speed} 公里，超过出行可能的上限 {max} 公里/小时",
  "finding.impossible_travel_instant": "同一时刻出现在相距 {distance} 公里的 {from} 和 {to}",
  "finding.env_hopping": "一小时内使用了 {ips} 个 IP、{asns} 个网络（{list}）；一个账号应固定使用同一网络",
  "finding.pin_violation.cidrs": "IP {value} 不在固定的地址范围内（{pinned}）",
  "finding.pin_violation.asns": "网络 AS{value} 不在固定的网络之中（{pinned}）",
  "finding.pin_violation.countries": "国家/地区 {value} 不在固定的国家/地区之中（{pinned}）",
  "finding.pin_violation.regions": "地区 {value} 不在固定的地区之中（{pinned}）",
  "finding.pin_violation.timezones": "时区 {value} 不在固定的时区之中（{pinned}）",
  "finding.pin_violation.locales": "浏览器语言 {value} 不在固定的语言之中（{pinned}）",
  "finding.pin_violation.device_ids": "设备 {value} 不在固定的设备之中（{pinned}）",
  "finding.pin_violation.network_types": "网络类型 {value} 不在固定的网络类型之中（{pinned}）",
  "finding.pin_violation_unknown.network_types":
    "无法确定该事件的网络类型，因此无法证明它属于固定的类型（{pinned}）",
  "finding.pin_violation_unknown.cidrs": "该事件没有 IP 地址，无法确认其在固定的地址范围内（{pinned}）",
  "finding.pin_violation_unknown.asns": "该事件的网络未知，无法确认其属于固定的网络（{pinned}）",
  "finding.pin_violation_unknown.countries":
    "该事件的国家/地区未知，无法确认其属于固定的国家/地区（{pinned}）",
  "finding.pin_violation_unknown.regions": "该事件的地区未知，无法确认其属于固定的地区（{pinned}）",
  "finding.pin_violation_unknown.timezones": "该事件没有时区，无法确认其属于固定的时区（{pinned}）",
  "finding.unbound_environment": "由环境 {environment} 上报，但该环境未绑定此账号",
  "finding.shared_device":
    "设备 {value} 也被 {other}（{other_group}）使用，它必须与 {account}（{group}）保持隔离",
  "finding.shared_ip": "IP {value} 也被 {other}（{other_group}）使用，它必须与 {account}（{group}）保持隔离",
  "finding.shared_subnet":
    "网段 {value} 也被 {other}（{other_group}）使用，它必须与 {account}（{group}）保持隔离",
  "finding.incident_network_switch":
    "{platform} 平台故障（“{title}”）期间切换到了 {switched}，该账号此前从未使用过",
  "finding.retry_storm": "10 分钟内尝试登录 {logins} 次，其中 {failed} 次失败（上限 {limit} 次）",
  "finding.retry_storm_incident":
    "平台故障期间，10 分钟内尝试登录 {logins} 次，其中 {failed} 次失败（上限 {limit} 次）",
  "finding.sensitive_op_during_incident":
    "{platform} 平台故障（“{title}”）期间执行了敏感操作 {operation}；应等平台恢复后再操作",
  "finding.override": "已由 {by} 设置的紧急放行 {id} 允许，有效期至 {until}：{reason}",
  "finding.generic": "规则 {rule} 的发现",
  "finding.part.ip": "IP 地址 {ip}",
  "finding.part.network": "网络 AS{asn}",
  "finding.part.device": "设备 {device}",
  "finding.part.group": "分组 {group}",
  "finding.part.no_group": "未分组",
  "finding.part.none": "暂无",
  "finding.part.network_type.residential": "家庭宽带",
  "finding.part.network_type.mobile": "移动",
  "finding.part.network_type.hosting": "机房/云主机",
  "finding.part.network_type.vpn": "VPN/代理",
  "finding.part.deleted_account": "已删除的账号",
  "preflight.break_glass":
    "请不要绕过此限制。如确需立即执行，审核员可在限定时间内为该账号放行 {operation}：POST {path}，提供操作、分钟数和原因（会被审计）。",
};
