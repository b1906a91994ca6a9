#!/bin/sh
# tether-agent.sh — the tether agent for minimal machines: POSIX sh + curl (+ sha256sum or openssl).
#
# Usage:
#   tether-agent.sh report --account PLATFORM:REF [--type login|operation|heartbeat] [--op SLUG]
#                          [--status ok|error] [--code CODE]
#   tether-agent.sh check  --account PLATFORM:REF --op SLUG [--offline-policy fail-open|fail-closed]
#   tether-agent.sh flush          send what the spool holds
#   tether-agent.sh status         spool depth and server reachability
#   tether-agent.sh device-id [--salt S]   this machine's device id (a salted hash; raw values never leave)
#
# check exits 0 allow, 10 warn, 20 deny (2 on a usage error). When the server cannot be reached, check
# denies sensitive operations (fail-closed) and lets the others go on with a warning, exit 10 (fail-open), and says which applied;
# TETHER_OFFLINE_POLICY or --offline-policy overrides that.
# report writes the event to the spool first (one file, written then renamed), then sends the spool; an
# event leaves the spool only after the server answered 202, so a report made while the server is away
# is sent by a later call or by `flush` (cron: `*/5 * * * * tether-agent.sh flush`).
#
# Configuration (environment, else the file $TETHER_AGENT_CONFIG, default ~/.config/tether/agent.env,
# KEY=value lines): TETHER_SERVER, TETHER_TOKEN, TETHER_PROFILE, TETHER_OFFLINE_POLICY,
# TETHER_AGENT_SPOOL_DIR (default ~/.local/state/tether-agent/sh), TETHER_AGENT_MAX_WAIT (longest
# Retry-After slept through, seconds, default 30). For containers and tests: TETHER_AGENT_MACHINE_ID_FILE,
# TETHER_AGENT_HOSTNAME, TETHER_AGENT_SYS_NET. See agents/shell.md.

set -u

VERSION=0.1.0
SENSITIVE=" profile_edit permission_change binding_change payment_change password_change email_change phone_change bank_account_change "
BATCH=100

lang_zh() {
  # The first of LC_ALL, LC_MESSAGES, LANG that is set decides the language of messages.
  for v in "${LC_ALL:-}" "${LC_MESSAGES:-}" "${LANG:-}"; do
    if [ -n "$v" ]; then
      case $v in zh*) return 0 ;; *) return 1 ;; esac
    fi
  done
  return 1
}

# msg EN ZH: print the message in the user's language
msg() {
  if lang_zh; then printf '%s\n' "$2"; else printf '%s\n' "$1"; fi
}

warn() { msg "$1" "$2" >&2; }

die() {
  printf 'tether-agent: %s\n' "$1" >&2
  exit 2
}

# config KEY: the environment's value, else the config file's
config() {
  eval "val=\${$1:-}"
  if [ -z "$val" ] && [ -f "$CONFIG_FILE" ]; then
    val=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$CONFIG_FILE" | tail -n 1 |
      sed "s/[[:space:]]*\$//; s/^\"\(.*\)\"\$/\1/; s/^'\(.*\)'\$/\1/")
  fi
  printf '%s' "$val"
}

CONFIG_FILE=${TETHER_AGENT_CONFIG:-${XDG_CONFIG_HOME:-${HOME:-}/.config}/tether/agent.env}
SERVER=$(config TETHER_SERVER)
SERVER=${SERVER%/}
TOKEN=$(config TETHER_TOKEN)
PROFILE=$(config TETHER_PROFILE)
OFFLINE_POLICY=$(config TETHER_OFFLINE_POLICY)
SPOOL=$(config TETHER_AGENT_SPOOL_DIR)
SPOOL=${SPOOL:-${XDG_STATE_HOME:-${HOME:-}/.local/state}/tether-agent/sh}
MAX_WAIT=$(config TETHER_AGENT_MAX_WAIT)
MAX_WAIT=${MAX_WAIT:-30}
case $MAX_WAIT in *[!0-9]*) die "TETHER_AGENT_MAX_WAIT must be a whole number of seconds" ;; esac
UA="tether-agent-sh/$VERSION ($(uname -s 2>/dev/null) $(uname -r 2>/dev/null))"

# auth: the token as a curl config read from stdin, so it never shows in the process list
auth() {
  printf 'header = "authorization: Bearer %s"\n' "$TOKEN"
}

require_config() {
  if [ -z "$SERVER" ] || [ -z "$TOKEN" ]; then
    die "set TETHER_SERVER and TETHER_TOKEN (or write them to $CONFIG_FILE)"
  fi
  command -v curl >/dev/null 2>&1 || die "curl is required"
}

# json_str VALUE: VALUE as a JSON string; control characters are refused (the server refuses them too)
json_str() {
  case $1 in *[[:cntrl:]]*) die "control characters are not allowed in: $1" ;; esac
  printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

sha256_hex() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum | cut -c1-64
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 | cut -c1-64
  else
    openssl dgst -sha256 | sed 's/^.*= *//'
  fi
}

# --- device id: the same algorithm as the Python and Node agents ---------------------------------------

machine_id() {
  if [ -n "${TETHER_AGENT_MACHINE_ID_FILE:-}" ]; then
    [ -r "$TETHER_AGENT_MACHINE_ID_FILE" ] && head -n 1 "$TETHER_AGENT_MACHINE_ID_FILE"
  elif [ -r /etc/machine-id ]; then
    head -n 1 /etc/machine-id
  elif [ -r /var/lib/dbus/machine-id ]; then
    head -n 1 /var/lib/dbus/machine-id
  fi
}

host_name() {
  h=${TETHER_AGENT_HOSTNAME:-}
  [ -n "$h" ] || h=$(hostname 2>/dev/null) || h=
  [ -n "$h" ] || h=$(uname -n)
  printf '%s' "$h" | tr '[:upper:]' '[:lower:]'
}

macs() {
  net=${TETHER_AGENT_SYS_NET:-/sys/class/net}
  [ -d "$net" ] || return 0
  for dir in "$net"/*; do
    [ -e "$dir" ] || [ -L "$dir" ] || continue
    # Virtual interfaces (lo, docker0, veth…) come and go; only hardware identifies the machine.
    if [ -L "$dir" ]; then
      case $(readlink "$dir") in *devices/virtual/*) continue ;; esac
    fi
    [ -r "$dir/address" ] || continue
    a=$(head -n 1 "$dir/address" | tr -d '[:space:]' | tr '[:upper:]' '[:lower:]')
    [ -n "$a" ] && [ "$a" != "00:00:00:00:00:00" ] && printf '%s\n' "$a"
  done | LC_ALL=C sort -u | paste -s -d, -
}

device_id_for() {
  hash=$(printf 'tether-device-v1\n%s\n%s\n%s\n%s' "$1" "$(machine_id)" "$(host_name)" "$(macs)" | sha256_hex)
  printf 'dev_%s\n' "$(printf '%s' "$hash" | cut -c1-32)"
}

salt_file() {
  printf '%s/salt-%s' "$SPOOL" "$(printf '%s\n%s' "$SERVER" "$TOKEN" | sha256_hex | cut -c1-16)"
}

# salt: the workspace id, fetched once from /v1/whoami and cached beside the spool; fails when unreachable
salt() {
  f=$(salt_file)
  if [ -s "$f" ]; then
    head -n 1 "$f"
    return 0
  fi
  body=$(auth | curl -sS --fail --max-time 10 -K - -A "$UA" "$SERVER/v1/whoami" 2>/dev/null) || return 1
  s=$(printf '%s' "$body" | tr -d '\n' | sed -n 's/.*"workspace"[[:space:]]*:[[:space:]]*{\([^}]*\)}.*/\1/p' |
    sed -n 's/.*"id"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
  [ -n "$s" ] || return 1
  printf '%s\n' "$s" >"$f.tmp.$$" && mv -f "$f.tmp.$$" "$f"
  printf '%s\n' "$s"
}

# --- what the agent says about the machine -----------------------------------------------------------

timezone() {
  tz=${TZ:-}
  tz=${tz#:}
  if [ -z "$tz" ] && [ -L /etc/localtime ]; then
    tz=$(readlink /etc/localtime | sed -n 's|.*zoneinfo/||p')
  fi
  if [ -z "$tz" ] && [ -r /etc/timezone ]; then tz=$(head -n 1 /etc/timezone); fi
  # Only an IANA name is worth sending: the server refuses anything else, and the whole event with it.
  printf '%s' "$tz" | grep -Eq '^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$' && printf '%s' "$tz"
}

locale_tag() {
  for v in "${LC_ALL:-}" "${LC_MESSAGES:-}" "${LANG:-}"; do
    [ -n "$v" ] || continue
    t=$(printf '%s' "${v%%.*}" | sed 's/@.*//; s/_/-/g')
    case $t in C | POSIX) return 0 ;; esac
    printf '%s' "$t" | grep -Eq '^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$' && printf '%s' "$t"
    return 0
  done
}

# env_json DEVICE_ID: the env object (the server adds the source IP it sees)
env_json() {
  out="\"user_agent\":$(json_str "$UA")"
  tz=$(timezone)
  [ -n "$tz" ] && out="$out,\"timezone\":$(json_str "$tz")"
  lc=$(locale_tag)
  [ -n "$lc" ] && out="$out,\"locale\":$(json_str "$lc")"
  [ -n "$PROFILE" ] && out="$out,\"profile\":$(json_str "$PROFILE")"
  [ -n "$1" ] && out="$out,\"device_id\":$(json_str "$1")"
  printf '{%s}' "$out"
}

account_json() {
  case $1 in
    ?*:?*) ;;
    *) die "--account must be platform:ref, got '$1'" ;;
  esac
  printf '{"platform":%s,"ref":%s}' "$(json_str "${1%%:*}")" "$(json_str "${1#*:}")"
}

new_id() {
  if [ -r /proc/sys/kernel/random/uuid ]; then
    cat /proc/sys/kernel/random/uuid
  else
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
  fi
}

# --- HTTP --------------------------------------------------------------------------------------------

# http METHOD PATH [BODY_FILE]: sets STATUS, BODY and RETRY_AFTER; STATUS 000 when unreachable
http() {
  hdr="$SPOOL/.headers.$$"
  set -- "$1" "$2" "${3:-}"
  if [ -n "$3" ]; then set -- "$@" -H 'content-type: application/json' --data-binary "@$3"; fi
  method=$1 path=$2
  shift 3
  # The server words reasons in the language asked for.
  if lang_zh; then lang=zh-CN; else lang=en; fi
  BODY=$(auth | curl -sS --max-time 15 -K - -X "$method" -A "$UA" -H "accept-language: $lang" -D "$hdr" -w '\n%{http_code}' "$@" "$SERVER$path" 2>/dev/null)
  STATUS=$(printf '%s' "$BODY" | tail -n 1)
  BODY=$(printf '%s' "$BODY" | sed '$d')
  case $STATUS in [1-5][0-9][0-9]) ;; *) STATUS=000 ;; esac
  RETRY_AFTER=$(tr -d '\r' <"$hdr" 2>/dev/null | sed -n 's/^[Rr][Ee][Tt][Rr][Yy]-[Aa][Ff][Tt][Ee][Rr]:[[:space:]]*\([0-9][0-9]*\).*/\1/p' | tail -n 1)
  rm -f "$hdr"
}

# --- spool -------------------------------------------------------------------------------------------

spool_init() {
  mkdir -p "$SPOOL/events" "$SPOOL/tmp" || die "cannot create the spool $SPOOL"
  chmod 700 "$SPOOL" 2>/dev/null || :
}

depth() {
  n=0
  for f in "$SPOOL"/events/*.json; do [ -e "$f" ] && n=$((n + 1)); done
  printf '%s' "$n"
}

# flush_lock: one sender at a time (mkdir is atomic); a lock left by a dead process is taken over
flush_lock() {
  lock="$SPOOL/flush.lock"
  if mkdir "$lock" 2>/dev/null; then
    echo $$ >"$lock/pid"
    return 0
  fi
  pid=$(cat "$lock/pid" 2>/dev/null)
  if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
    rm -rf "$lock"
    mkdir "$lock" 2>/dev/null && echo $$ >"$lock/pid" && return 0
  fi
  return 1
}

flush_unlock() { rm -rf "$SPOOL/flush.lock"; }

# flush [wait]: send the spool in batches; returns 0 when empty, 1 when something is left
flush() {
  wait_ok=${1:-}
  nb=$(cat "$SPOOL/not-before" 2>/dev/null)
  now=$(date +%s)
  if [ -n "$nb" ] && [ "$nb" -gt "$now" ]; then
    if [ -n "$wait_ok" ] && [ $((nb - now)) -le "$MAX_WAIT" ]; then
      sleep $((nb - now))
    else
      FLUSH_ERROR="retry after $nb"
      return 1
    fi
  fi
  flush_lock || return 1
  trap 'flush_unlock' EXIT
  FLUSH_ERROR=
  dev=
  while :; do
    set -- "$SPOOL"/events/*.json
    [ -e "$1" ] || break
    batch="$SPOOL/tmp/batch.$$"
    files=
    n=0
    printf '{"events":[' >"$batch"
    for f in "$@"; do
      [ "$n" -lt "$BATCH" ] || break
      if [ -z "$dev" ] && grep -q '"@DEVICE@"' "$f"; then
        # reported before the salt was known: the device id is filled in now
        if ! s=$(salt); then
          FLUSH_ERROR="cannot learn the workspace id (GET /v1/whoami)"
          break 2
        fi
        dev=$(device_id_for "$s")
      fi
      [ "$n" -gt 0 ] && printf ',' >>"$batch"
      sed "s/\"@DEVICE@\"/\"$dev\"/" "$f" >>"$batch"
      files="$files ${f##*/}"
      n=$((n + 1))
    done
    printf ']}' >>"$batch"
    http POST /v1/events "$batch"
    rm -f "$batch"
    case $STATUS in
      202)
        for b in $files; do rm -f "$SPOOL/events/$b"; done
        ;;
      429 | 503)
        ra=${RETRY_AFTER:-1}
        if [ -n "$wait_ok" ] && [ "$ra" -le "$MAX_WAIT" ]; then
          warn "server busy (HTTP $STATUS); waiting $ra s as asked" "服务器繁忙（HTTP $STATUS）；按要求等待 $ra 秒"
          sleep "$ra"
        else
          echo $(($(date +%s) + ra)) >"$SPOOL/not-before"
          FLUSH_ERROR="HTTP $STATUS, retry after $ra s"
          break
        fi
        ;;
      400)
        # A batch the server refuses: send one by one and set aside what it will never accept.
        for b in $files; do
          f="$SPOOL/events/$b"
          { printf '{"events":[' && sed "s/\"@DEVICE@\"/\"$dev\"/" "$f" && printf ']}'; } >"$batch"
          http POST /v1/events "$batch"
          rm -f "$batch"
          case $STATUS in
            202) rm -f "$f" ;;
            400)
              mkdir -p "$SPOOL/rejected" && mv -f "$f" "$SPOOL/rejected/"
              warn "the server refused $(basename "$f"); moved to $SPOOL/rejected" \
                "服务器拒绝了 $(basename "$f")；已移到 $SPOOL/rejected"
              ;;
            *)
              FLUSH_ERROR="HTTP $STATUS"
              break 2
              ;;
          esac
        done
        ;;
      000)
        FLUSH_ERROR="server unreachable"
        break
        ;;
      *)
        FLUSH_ERROR="HTTP $STATUS: $BODY"
        break
        ;;
    esac
  done
  rm -f "$SPOOL/tmp/batch.$$"
  flush_unlock
  trap - EXIT
  [ -z "$FLUSH_ERROR" ]
}

# --- commands ----------------------------------------------------------------------------------------

cmd_report() {
  account='' type='' op='' status=ok code=''
  while [ $# -gt 0 ]; do
    case $1 in
      --account) account=${2:-} && shift ;;
      --type) type=${2:-} && shift ;;
      --op) op=${2:-} && shift ;;
      --status) status=${2:-} && shift ;;
      --code) code=${2:-} && shift ;;
      *) die "report: unknown argument $1" ;;
    esac
    shift
  done
  [ -n "$type" ] || if [ -n "$op" ] && [ "$op" != login ]; then type=operation; else type=login; fi
  case $type in login | operation | heartbeat) ;; *) die "--type must be login, operation or heartbeat" ;; esac
  case $status in ok | error) ;; *) die "--status must be ok or error" ;; esac
  [ "$type" = operation ] && [ -z "$op" ] && die "--type operation needs --op"
  [ "$type" = heartbeat ] || [ -n "$account" ] || die "--account platform:ref is required"
  require_config
  spool_init

  id=$(new_id)
  dev=$(salt)
  [ -n "$dev" ] && dev=$(device_id_for "$dev")
  ev="\"id\":$(json_str "$id"),\"type\":$(json_str "$type"),\"occurred_at\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\""
  [ -n "$account" ] && ev="$ev,\"account\":$(account_json "$account")"
  [ "$type" = operation ] && ev="$ev,\"operation\":$(json_str "$op")"
  result="\"status\":\"$status\""
  [ -n "$code" ] && result="$result,\"code\":$(json_str "$code")"
  ev="$ev,\"result\":{$result},\"env\":$(env_json "${dev:-@DEVICE@}")"

  # Written under tmp/, then renamed into events/: a sender never sees half an event.
  name="$(date +%s)-$id.json"
  if ! { printf '{%s}\n' "$ev" >"$SPOOL/tmp/$name" && mv "$SPOOL/tmp/$name" "$SPOOL/events/$name"; }; then
    die "cannot write to the spool $SPOOL"
  fi
  if flush; then
    msg "reported $id" "已上报 $id"
  else
    warn "server unreachable (${FLUSH_ERROR:-another sender is busy}); event $id kept in the spool ($(depth) waiting)" \
      "无法连接服务器（${FLUSH_ERROR:-另一个进程正在发送}）；事件 $id 已保存在本地队列（共 $(depth) 条待发送）"
  fi
  return 0
}

cmd_check() {
  account='' op='' policy=$OFFLINE_POLICY
  while [ $# -gt 0 ]; do
    case $1 in
      --account) account=${2:-} && shift ;;
      --op) op=${2:-} && shift ;;
      --offline-policy) policy=${2:-} && shift ;;
      *) die "check: unknown argument $1" ;;
    esac
    shift
  done
  if [ -z "$account" ] || [ -z "$op" ]; then die "check needs --account platform:ref and --op SLUG"; fi
  case $policy in '' | fail-open | fail-closed) ;; *) die "the offline policy must be fail-open or fail-closed" ;; esac
  require_config
  spool_init

  s=$(salt) && dev=$(device_id_for "$s") || dev=
  req="$SPOOL/tmp/preflight.$$"
  printf '{"account":%s,"operation":%s,"env":%s}' "$(account_json "$account")" "$(json_str "$op")" \
    "$(env_json "$dev")" >"$req"
  http POST /v1/preflight "$req"
  rm -f "$req"
  if [ "$STATUS" = 200 ]; then
    decision=$(printf '%s' "$BODY" | tr -d '\n' | sed -n 's/.*"decision"[[:space:]]*:[[:space:]]*"\([a-z]*\)".*/\1/p')
  elif [ "$STATUS" = 000 ] || [ "$STATUS" -ge 500 ] || [ "$STATUS" = 429 ]; then
    if [ -z "$policy" ]; then
      case $SENSITIVE in *" $op "*) policy=fail-closed ;; *) policy=fail-open ;; esac
    fi
    # unchecked is not approved: fail-open proceeds as a warning (exit 10), as every tether agent does
    if [ "$policy" = fail-closed ]; then decision=deny; else decision=warn; fi
    print_decision "$decision"
    msg "server unreachable (HTTP $STATUS); offline policy $policy applied for $op" \
      "无法连接服务器（HTTP $STATUS）；已对 $op 应用离线策略 $policy"
    [ "$decision" = deny ] && return 20
    return 10
  else
    die "preflight answered $STATUS: $BODY"
  fi
  print_decision "$decision"
  # each reason is {"rule":…,"severity":…,"message":…}
  printf '%s\n' "$BODY" | sed 's/"reasons":\[//; s/\],"incident".*//' | tr '{' '\n' | while IFS= read -r r; do
    rule=$(printf '%s' "$r" | sed -n 's/.*"rule":"\([^"]*\)".*/\1/p')
    [ -n "$rule" ] || continue
    sev=$(printf '%s' "$r" | sed -n 's/.*"severity":"\([^"]*\)".*/\1/p')
    text=$(printf '%s' "$r" | sed -n 's/.*"message":"\(\([^"\\]\|\\.\)*\)".*/\1/p')
    printf '  - %s (%s): %s\n' "$rule" "$sev" "$text"
  done
  case $decision in
    allow) return 0 ;;
    warn) return 10 ;;
    deny) return 20 ;;
    *) die "preflight answered something unexpected: $BODY" ;;
  esac
}

print_decision() {
  case $1 in
    allow) msg "allow: go ahead" "允许：可以继续" ;;
    warn) msg "warn: allowed, but this environment deviates from what is normal for the account" \
      "警告：允许执行，但当前环境与该账号的常用环境不一致" ;;
    deny) msg "deny: do not do this now" "拒绝：现在不要执行此操作" ;;
  esac
}

cmd_flush() {
  require_config
  spool_init
  if flush wait; then
    msg "spool empty" "队列已清空"
    return 0
  fi
  warn "${FLUSH_ERROR:-another sender is busy}; $(depth) waiting in the spool" \
    "${FLUSH_ERROR:-另一个进程正在发送}；队列中还有 $(depth) 条"
  return 1
}

cmd_status() {
  require_config
  spool_init
  http GET /v1/whoami
  reach=no
  [ "$STATUS" = 200 ] && reach=yes
  printf 'spool %s: %s waiting; server %s reachable: %s\n' "$SPOOL" "$(depth)" "$SERVER" "$reach"
}

cmd_device_id() {
  s=
  if [ "${1:-}" = --salt ]; then
    s=${2:-}
  else
    require_config
    spool_init
    s=$(salt) || die "cannot reach $SERVER to learn the workspace id"
  fi
  device_id_for "$s"
}

# The help at the top of this file, in Chinese.
help_zh() {
  cat <<'EOF'
tether-agent.sh —— 面向精简系统的 tether 代理程序：POSIX sh + curl（另需 sha256sum 或 openssl）。

用法：
  tether-agent.sh report --account PLATFORM:REF [--type login|operation|heartbeat] [--op SLUG]
                         [--status ok|error] [--code CODE]
  tether-agent.sh check  --account PLATFORM:REF --op SLUG [--offline-policy fail-open|fail-closed]
  tether-agent.sh flush          发送本地队列中的事件
  tether-agent.sh status         显示本地队列长度和服务器连通情况
  tether-agent.sh device-id [--salt S]   本机的设备 ID（加盐哈希；原始值不会离开本机）

check 的退出码：0 允许，10 警告，20 拒绝（用法错误为 2）。无法连接服务器时，check 拒绝敏感操作
（fail-closed），其他操作放行并给出警告、退出码 10（fail-open），并说明采用了哪种策略；
可用 TETHER_OFFLINE_POLICY 或 --offline-policy 覆盖。
report 先把事件写入本地队列（每个事件一个文件，写完后再改名），然后发送队列；只有服务器应答 202 后
事件才会离开队列，因此服务器不可用时记录的事件会在之后的调用或 `flush` 中发送
（cron：`*/5 * * * * tether-agent.sh flush`）。

配置（取自环境变量，否则取自文件 $TETHER_AGENT_CONFIG，默认 ~/.config/tether/agent.env，
每行 KEY=value）：TETHER_SERVER、TETHER_TOKEN、TETHER_PROFILE、TETHER_OFFLINE_POLICY、
TETHER_AGENT_SPOOL_DIR（默认 ~/.local/state/tether-agent/sh）、TETHER_AGENT_MAX_WAIT（遇到 Retry-After
时最长等待的秒数，默认 30）。容器和测试用：TETHER_AGENT_MACHINE_ID_FILE、TETHER_AGENT_HOSTNAME、
TETHER_AGENT_SYS_NET。详见 agents/shell.md。
EOF
}

[ $# -gt 0 ] || die "usage: tether-agent.sh report|check|flush|status|device-id … (see the top of this file)"
cmd=$1
shift
case $cmd in
  report) cmd_report "$@" ;;
  check) cmd_check "$@" ;;
  flush) cmd_flush ;;
  status) cmd_status ;;
  device-id) cmd_device_id "$@" ;;
  -h | --help | help) if lang_zh; then help_zh; else sed -n '2,24p' "$0"; fi ;;
  *) die "unknown command $cmd (report, check, flush, status, device-id)" ;;
esac
