#!/usr/bin/env python3
"""tether agent for Python scripts: report events, ask preflight, guard a block of work.

Single file, standard library only, Python >= 3.8. Copy it next to your script or put it on PYTHONPATH.

    import tether_agent as tether

    with tether.guard("tiktok_shop:us-store-17", "login"):
        run_login()                       # refused (tether.Denied) on deny; outcome reported either way

    tether.report("tiktok_shop:us-store-17", type="operation", op="publish_listing")
    decision = tether.check("tiktok_shop:us-store-17", "binding_change")

Command line (same exit codes as the other tether agents):

    python3 tether_agent.py report --account tiktok_shop:us-store-17 [--type login|operation|heartbeat]
                                   [--op SLUG] [--status ok|error] [--code CODE]
    python3 tether_agent.py check  --account tiktok_shop:us-store-17 --op SLUG [--offline-policy P]
    python3 tether_agent.py flush | status | device-id [--salt S]

check exits 0 allow, 10 warn, 20 deny. Configuration: TETHER_SERVER, TETHER_TOKEN (or the config file
named by TETHER_AGENT_CONFIG, default ~/.config/tether/agent.env, lines KEY=value). See README.md.
"""

import contextlib
import datetime
import email.utils
import hashlib
import json
import os
import platform as _platform
import re
import socket
import sys
import time
import urllib.error
import urllib.request
import uuid

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

__version__ = "0.1.0"
__all__ = [
    "Agent",
    "Decision",
    "Denied",
    "TetherError",
    "check",
    "device_id",
    "flush",
    "guard",
    "report",
]

EXIT_ALLOW, EXIT_WARN, EXIT_DENY = 0, 10, 20
EXIT_CODES = {"allow": EXIT_ALLOW, "warn": EXIT_WARN, "deny": EXIT_DENY}
SENSITIVE_OPERATIONS = frozenset(
    (
        "profile_edit",
        "permission_change",
        "binding_change",
        "payment_change",
        "password_change",
        "email_change",
        "phone_change",
        "bank_account_change",
    )
)
OFFLINE_POLICIES = ("fail-open", "fail-closed")
BATCH_SIZE = 200
DEVICE_PLACEHOLDER = "_tether_device"


class TetherError(Exception):
    """Misconfiguration or an answer the agent cannot use."""


class Denied(TetherError):
    """Preflight said deny (or the server was unreachable under fail-closed): the block did not run."""

    def __init__(self, decision):
        self.decision = decision
        super().__init__(decision.describe())


class _Unreachable(Exception):
    pass


class _Busy(Exception):
    """429/503: the server asked us to come back later."""

    def __init__(self, status, retry_after):
        self.status = status
        self.retry_after = retry_after
        super().__init__("HTTP %d, retry after %s s" % (status, retry_after))


# --- messages ---------------------------------------------------------------------------------------------

_MESSAGES = {
    "en": {
        "allow": "allow: go ahead",
        "warn": "warn: allowed, but this environment deviates from what is normal for the account",
        "deny": "deny: do not do this now",
        "offline": "server unreachable ({error}); offline policy {policy} applied for {op}",
        "reported": "reported {id}",
        "spooled": "server unreachable ({error}); event {id} kept in the spool ({depth} waiting)",
        "flushed": "sent {sent}, {left} waiting in the spool",
        "rejected": "the server refused event {id} ({detail}); moved to {path}",
        "retry_wait": "server busy (HTTP {status}); waiting {seconds} s as asked",
        "retry_later": "server busy (HTTP {status}); not sending before {when}",
        "incident": "active incident: {title}",
    },
    "zh": {
        "allow": "允许：可以继续",
        "warn": "警告：允许执行，但当前环境与该账号的常用环境不一致",
        "deny": "拒绝：现在不要执行此操作",
        "offline": "无法连接服务器（{error}）；已对 {op} 应用离线策略 {policy}",
        "reported": "已上报 {id}",
        "spooled": "无法连接服务器（{error}）；事件 {id} 已保存在本地队列（共 {depth} 条待发送）",
        "flushed": "已发送 {sent} 条，队列中还有 {left} 条",
        "rejected": "服务器拒绝了事件 {id}（{detail}）；已移到 {path}",
        "retry_wait": "服务器繁忙（HTTP {status}）；按要求等待 {seconds} 秒",
        "retry_later": "服务器繁忙（HTTP {status}）；{when} 之前不再发送",
        "incident": "进行中的平台故障：{title}",
    },
}


def _language(environ=None):
    environ = os.environ if environ is None else environ
    # POSIX precedence: the first of these that is set decides the language of messages.
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def _msg(key, **kw):
    return _MESSAGES[_language()][key].format(**kw)


# --- configuration ----------------------------------------------------------------------------------------


def _home(*parts):
    return os.path.join(os.path.expanduser("~"), *parts)


def _config_path(environ):
    if environ.get("TETHER_AGENT_CONFIG"):
        return environ["TETHER_AGENT_CONFIG"]
    base = environ.get("XDG_CONFIG_HOME") or _home(".config")
    return os.path.join(base, "tether", "agent.env")


def _read_config_file(path):
    """KEY=value lines (the shell agent reads the same file); # comments; optional quotes."""
    values = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#") or "=" not in line:
                    continue
                key, value = line.split("=", 1)
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                values[key.strip()] = value
    except FileNotFoundError:
        pass
    return values


def _default_spool_dir(environ):
    base = environ.get("XDG_STATE_HOME") or _home(".local", "state")
    return os.path.join(base, "tether-agent", "python")


# --- environment: what the agent says about the machine ----------------------------------------------------


def _first_line(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        return lines[0] if lines else ""
    except OSError:
        return None


def machine_identity(environ=None):
    """(machine_id, hostname, macs): the raw values. They only ever go into the hash of device_id()."""
    environ = os.environ if environ is None else environ
    if environ.get("TETHER_AGENT_MACHINE_ID_FILE"):
        machine_id = _first_line(environ["TETHER_AGENT_MACHINE_ID_FILE"]) or ""
    else:
        machine_id = _first_line("/etc/machine-id")
        if machine_id is None:
            machine_id = _first_line("/var/lib/dbus/machine-id")
        machine_id = machine_id or ""
    hostname = (environ.get("TETHER_AGENT_HOSTNAME") or socket.gethostname()).lower()
    net = environ.get("TETHER_AGENT_SYS_NET") or "/sys/class/net"
    macs = set()
    try:
        entries = os.listdir(net)
    except OSError:
        entries = []
    for name in entries:
        path = os.path.join(net, name)
        # Virtual interfaces (lo, docker0, veth…) come and go; only hardware identifies the machine.
        if os.path.islink(path) and "devices/virtual/" in os.readlink(path):
            continue
        address = _first_line(os.path.join(path, "address"))
        if address is None:
            continue
        address = address.strip().lower()
        if address and address != "00:00:00:00:00:00":
            macs.add(address)
    return machine_id, hostname, ",".join(sorted(macs))


def device_id(salt, environ=None):
    """Salted hash of the machine identity; identical in the shell, Python and Node agents."""
    machine_id, hostname, macs = machine_identity(environ)
    material = "tether-device-v1\n%s\n%s\n%s\n%s" % (salt, machine_id, hostname, macs)
    return "dev_" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def _timezone(environ):
    tz = environ.get("TZ", "").lstrip(":")
    if not tz:
        try:
            target = os.readlink("/etc/localtime")
            if "zoneinfo/" in target:
                tz = target.split("zoneinfo/", 1)[1]
        except OSError:
            tz = (_first_line("/etc/timezone") or "").strip()
    # Only an IANA name is worth sending: the server refuses anything else, and the whole event with it.
    if re.match(r"^[A-Za-z_]+(/[A-Za-z0-9_+\-]+)*$", tz or ""):
        return tz
    return None


def _locale(environ):
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            tag = value.split(".")[0].split("@")[0].replace("_", "-")
            if tag in ("C", "POSIX"):
                return None
            return tag if re.match(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", tag) else None
    return None


def _user_agent():
    return "tether-agent-py/%s (%s %s; Python %s)" % (
        __version__,
        _platform.system() or "unknown",
        _platform.release() or "",
        _platform.python_version(),
    )


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _account(value):
    if isinstance(value, dict):
        return {"platform": value["platform"], "ref": value["ref"]}
    if isinstance(value, (tuple, list)):
        return {"platform": value[0], "ref": value[1]}
    platform, sep, ref = str(value).partition(":")
    if not sep or not platform or not ref:
        raise TetherError("account must be platform:ref, got %r" % (value,))
    return {"platform": platform, "ref": ref}


def _code(exc_type):
    """An exception class as a result code: TimeoutException -> timeout_exception."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", exc_type.__name__).lower()
    return re.sub(r"[^a-z0-9_]", "_", snake)[:64] or "error"


def _retry_after(value):
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int(when.timestamp() - time.time() + 0.999))


# --- file locking -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(path, blocking=True):
    """An exclusive lock on `path` shared with other agent processes; yields False when busy and not blocking."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if fcntl is not None:
            flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
            try:
                fcntl.flock(fd, flags)
            except BlockingIOError:
                yield False
                return
        else:
            mode = msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK
            try:
                msvcrt.locking(fd, mode, 1)
            except OSError:
                yield False
                return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


def _fsync_dir(path):
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_jsonl(path):
    records = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue  # a line torn by a crash mid-append was never acknowledged to anyone
    except FileNotFoundError:
        pass
    return records


def _write_jsonl(path, records):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, separators=(",", ":")) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path))


# --- the agent --------------------------------------------------------------------------------------------


class Decision:
    """A preflight answer. `offline` is True when the server could not be asked and `policy` decided."""

    def __init__(self, decision, reasons=(), incident=None, offline=False, policy=None, error=None):
        self.decision = decision
        self.reasons = list(reasons)
        self.incident = incident
        self.offline = offline
        self.policy = policy
        self.error = error
        self.operation = None

    @property
    def exit_code(self):
        return EXIT_CODES[self.decision]

    @property
    def allowed(self):
        return self.decision != "deny"

    def describe(self):
        lines = [_msg(self.decision)]
        if self.offline:
            lines.append(_msg("offline", error=self.error, policy=self.policy, op=self.operation))
        if self.incident:
            lines.append(_msg("incident", title=self.incident.get("title", "")))
        for r in self.reasons:
            lines.append("  - %s (%s): %s" % (r.get("rule"), r.get("severity"), r.get("message", "")))
        return "\n".join(lines)

    def __repr__(self):
        return "Decision(%r, reasons=%d, offline=%r)" % (self.decision, len(self.reasons), self.offline)


class Agent:
    """One configured agent. The module-level functions use a default Agent built from the environment."""

    def __init__(
        self,
        server=None,
        token=None,
        spool_dir=None,
        profile=None,
        offline_policy=None,
        timeout=10.0,
        max_wait=30.0,
        environ=None,
        log=None,
    ):
        environ = dict(os.environ if environ is None else environ)
        file_values = _read_config_file(_config_path(environ))
        pick = lambda key: environ.get(key) or file_values.get(key)  # noqa: E731
        self.server = (server or pick("TETHER_SERVER") or "").rstrip("/")
        self.token = token or pick("TETHER_TOKEN")
        self.profile = profile or pick("TETHER_PROFILE")
        self.offline_policy = offline_policy or pick("TETHER_OFFLINE_POLICY")
        if self.offline_policy and self.offline_policy not in OFFLINE_POLICIES:
            raise TetherError("TETHER_OFFLINE_POLICY must be fail-open or fail-closed")
        self.spool_dir = spool_dir or pick("TETHER_AGENT_SPOOL_DIR") or _default_spool_dir(environ)
        self.timeout = timeout
        # A Retry-After longer than this is not slept through: we note it and send on a later call.
        try:
            self.max_wait = float(pick("TETHER_AGENT_MAX_WAIT") or max_wait)
        except ValueError:
            raise TetherError("TETHER_AGENT_MAX_WAIT must be a number of seconds") from None
        self.environ = environ
        self.log = log if log is not None else (lambda line: print(line, file=sys.stderr))
        self._salt = None
        self.last_flush = None

    # -- paths --
    def _path(self, name):
        os.makedirs(self.spool_dir, mode=0o700, exist_ok=True)
        return os.path.join(self.spool_dir, name)

    def _require_config(self):
        if not self.server or not self.token:
            raise TetherError("set TETHER_SERVER and TETHER_TOKEN (or write them to %s)" % _config_path(self.environ))

    # -- HTTP --
    def _request(self, method, path, body=None):
        self._require_config()
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("authorization", "Bearer " + self.token)
        req.add_header("user-agent", _user_agent())
        # The server words findings and reasons in the language asked for.
        req.add_header("accept-language", "zh-CN" if _language() == "zh" else "en")
        if data is not None:
            req.add_header("content-type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                return res.status, json.loads(res.read() or b"null")
        except urllib.error.HTTPError as err:
            if err.code in (429, 503):
                raise _Busy(err.code, _retry_after(err.headers.get("retry-after"))) from None
            try:
                payload = json.loads(err.read() or b"null")
            except ValueError:
                payload = None
            if err.code >= 500:
                raise _Unreachable("HTTP %d" % err.code) from None
            return err.code, payload
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", err)
            raise _Unreachable(str(reason)) from None

    def whoami(self):
        status, body = self._request("GET", "/v1/whoami")
        if status != 200:
            raise TetherError("whoami answered %d: %s" % (status, body))
        return body

    def _salt_file(self):
        key = hashlib.sha256(("%s\n%s" % (self.server, self.token)).encode("utf-8")).hexdigest()[:16]
        return self._path("salt-" + key)

    def salt(self, fetch=True):
        """The workspace id, fetched once from /v1/whoami and cached beside the spool."""
        if self._salt:
            return self._salt
        path = self._salt_file()
        cached = _first_line(path)
        if cached:
            self._salt = cached
            return cached
        if not fetch:
            return None
        salt = self.whoami()["workspace"]["id"]
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(salt + "\n")
        os.replace(tmp, path)
        self._salt = salt
        return salt

    def device_id(self, fetch=True):
        salt = self.salt(fetch=fetch)
        return device_id(salt, self.environ) if salt else None

    def env(self, fetch=True):
        """What this machine looks like, for an event or a preflight (the server supplies the IP it sees)."""
        env = {"user_agent": _user_agent()}
        for key, value in (("timezone", _timezone(self.environ)), ("locale", _locale(self.environ))):
            if value:
                env[key] = value
        if self.profile:
            env["profile"] = self.profile
        try:
            dev = self.device_id(fetch=fetch)
        except (_Unreachable, _Busy):
            dev = None
        if dev:
            env["device_id"] = dev
        return env

    # -- report and spool --
    def event(self, account, type=None, op=None, status="ok", code=None, message=None, attributes=None,
              operator=None, env=None):
        if type is None:
            type = "login" if op == "login" else ("operation" if op else "login")
        event = {"id": str(uuid.uuid4()), "type": type, "occurred_at": _now()}
        if type != "heartbeat" or account:
            event["account"] = _account(account)
        if op and type == "operation":
            event["operation"] = op
        if type == "operation" and not op:
            raise TetherError("an operation event needs op")
        result = {"status": status}
        if code:
            result["code"] = code
        if message:
            result["message"] = str(message)[:1024]
        event["result"] = result
        if operator:
            event["operator"] = operator
        if attributes:
            event["attributes"] = attributes
        event["env"] = dict(self.env(fetch=False), **(env or {}))
        if "device_id" not in event["env"]:
            # No salt yet (never reached the server): the device id is filled in when the event is sent.
            event[DEVICE_PLACEHOLDER] = True
        return event

    def report(self, account, type=None, op=None, status="ok", code=None, message=None, attributes=None,
               operator=None, env=None, send=True):
        """Append the event to the spool (fsynced) and try to send the spool. Returns the event id."""
        self._require_config()
        event = self.event(account, type, op, status, code, message, attributes, operator, env)
        self._append(event)
        self.last_flush = None
        if send:
            # The event is durable now: one attempt, no waiting behind another sender or a Retry-After.
            result = self.last_flush = self.flush(wait=False)
            if result["error"]:
                self.log(_msg("spooled", error=result["error"], id=event["id"], depth=result["left"]))
        return event["id"]

    def _append(self, event):
        line = (json.dumps(event, separators=(",", ":")) + "\n").encode("utf-8")
        with _locked(self._path("spool.lock")):
            fd = os.open(self._path("spool.jsonl"), os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if os.fstat(fd).st_size > 0:
                    os.lseek(fd, -1, os.SEEK_END)
                    if os.read(fd, 1) != b"\n":
                        # A crash tore the last append: end that line so this event is not glued to it.
                        line = b"\n" + line
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    def depth(self):
        return len(_read_jsonl(self._path("sending.jsonl"))) + len(_read_jsonl(self._path("spool.jsonl")))

    def _not_before(self):
        try:
            return float(_first_line(self._path("not-before")) or 0)
        except ValueError:
            return 0.0

    def flush(self, wait=True):
        """Send what the spool holds. Returns {"sent", "left", "error"}; never raises for network trouble.

        wait=False returns at once when another process is sending and notes a Retry-After instead of sleeping.

        One process sends at a time (a second one returns at once: the first is already sending). Events move
        from spool.jsonl to sending.jsonl under the append lock, so reports never wait for the network; a batch
        leaves sending.jsonl only after a 202, and event ids make a resend after a crash harmless.
        """
        sent, error = 0, None
        with _locked(self._path("flush.lock"), blocking=wait) as mine:
            if not mine:
                return {"sent": 0, "left": self.depth(), "error": None}
            not_before = self._not_before()
            if wait and 0 < not_before - time.time() <= self.max_wait:
                time.sleep(not_before - time.time())
            if not_before > time.time():
                return {"sent": 0, "left": self.depth(), "error": "retry after %s" % _iso(not_before)}
            sending = self._path("sending.jsonl")
            while True:
                pending = _read_jsonl(sending)
                if not pending:
                    with _locked(self._path("spool.lock")):
                        if not os.path.exists(self._path("spool.jsonl")):
                            break
                        os.replace(self._path("spool.jsonl"), sending)
                        _fsync_dir(self.spool_dir)
                    continue
                try:
                    sent += self._send_pending(sending, pending)
                except (_Unreachable, TetherError) as err:
                    error = str(err)
                    break
                except _Busy as busy:
                    error = str(busy)
                    seconds = busy.retry_after if busy.retry_after is not None else 1
                    if seconds <= self.max_wait and wait:
                        self.log(_msg("retry_wait", status=busy.status, seconds=seconds))
                        time.sleep(seconds)
                        error = None
                        continue
                    until = time.time() + seconds
                    with open(self._path("not-before"), "w") as f:
                        f.write("%f\n" % until)
                    self.log(_msg("retry_later", status=busy.status, when=_iso(until)))
                    break
        return {"sent": sent, "left": self.depth(), "error": error}

    def _send_pending(self, sending, pending):
        sent = 0
        while pending:
            batch, rest = pending[:BATCH_SIZE], pending[BATCH_SIZE:]
            status, body = self._request("POST", "/v1/events", {"events": [self._ready(e) for e in batch]})
            if status == 202:
                sent += len(batch)
            elif status == 400:
                sent += self._send_one_by_one(batch)
            else:
                raise TetherError("the server answered %d: %s" % (status, _error_message(body)))
            pending = rest
            # The acknowledged batch leaves the journal before the next one goes out.
            _write_jsonl(sending, pending)
        os.remove(sending)
        _fsync_dir(self.spool_dir)
        return sent

    def _send_one_by_one(self, batch):
        """A refused batch: find the events the server will never accept and set them aside."""
        sent = 0
        for event in batch:
            status, body = self._request("POST", "/v1/events", {"events": [self._ready(event)]})
            if status == 202:
                sent += 1
            elif status == 400:
                path = self._path("rejected.jsonl")
                with open(path, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"event": event, "error": body}) + "\n")
                    f.flush()
                    os.fsync(f.fileno())
                self.log(_msg("rejected", id=event.get("id"), detail=_error_message(body), path=path))
            else:
                raise TetherError("the server answered %d: %s" % (status, _error_message(body)))
        return sent

    def _ready(self, event):
        if not event.get(DEVICE_PLACEHOLDER):
            return event
        event = dict(event)
        del event[DEVICE_PLACEHOLDER]
        event["env"] = dict(event.get("env") or {}, device_id=self.device_id())
        return event

    # -- preflight --
    def check(self, account, op, env=None, offline_policy=None):
        """Ask the server before acting. Never raises for network trouble: the offline policy decides."""
        body = {"account": _account(account), "operation": op}
        try:
            body["env"] = dict(self.env(), **(env or {}))
            status, answer = self._request("POST", "/v1/preflight", body)
            if status != 200:
                raise TetherError("preflight answered %d: %s" % (status, _error_message(answer)))
            decision = Decision(answer["decision"], answer.get("reasons", []), answer.get("incident"))
        except (_Unreachable, _Busy) as err:
            policy = offline_policy or self.offline_policy
            if not policy:
                policy = "fail-closed" if op in SENSITIVE_OPERATIONS else "fail-open"
            # Unchecked is not approved: fail-open proceeds as a warning (exit 10), as every tether agent does.
            outcome = "deny" if policy == "fail-closed" else "warn"
            decision = Decision(outcome, offline=True, policy=policy, error=str(err))
        decision.operation = op
        return decision

    @contextlib.contextmanager
    def guard(self, account, op, env=None, offline_policy=None, type=None):
        """Preflight, then the block, then a report of how it went (the exception's class as the code)."""
        decision = self.check(account, op, env=env, offline_policy=offline_policy)
        if decision.decision == "deny":
            raise Denied(decision)
        if decision.decision == "warn" or decision.offline:
            self.log(decision.describe())
        kind = type or ("login" if op == "login" else "operation")
        try:
            yield decision
        except BaseException as exc:
            self.report(account, type=kind, op=op, status="error", code=_code(exc.__class__), message=str(exc),
                        env=env)
            raise
        self.report(account, type=kind, op=op, env=env)


def _iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).isoformat(timespec="seconds")


def _error_message(body):
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("message") or body["error"].get("code")
    return str(body)


# --- module-level API -------------------------------------------------------------------------------------

_default = None


def _agent():
    global _default
    if _default is None:
        _default = Agent()
    return _default


def report(account, type=None, op=None, status="ok", code=None, **kw):
    return _agent().report(account, type=type, op=op, status=status, code=code, **kw)


def check(account, op, env=None, offline_policy=None):
    return _agent().check(account, op, env=env, offline_policy=offline_policy)


def guard(account, op, env=None, offline_policy=None):
    return _agent().guard(account, op, env=env, offline_policy=offline_policy)


def flush():
    return _agent().flush()


# --- command line -----------------------------------------------------------------------------------------


_HELP = {
    "en": {
        "description": "tether agent (Python)",
        "report": "record one event",
        "report_account": "platform:ref (required except for heartbeats)",
        "check": "preflight: exit 0 allow, 10 warn, 20 deny",
        "flush": "send the spool",
        "status": "spool depth and server reachability",
        "device-id": "print this machine's device id (a hash)",
    },
    "zh": {
        "description": "tether 代理程序（Python）",
        "report": "记录一条事件",
        "report_account": "platform:ref（心跳事件以外必填）",
        "check": "预检：退出码 0 允许，10 警告，20 拒绝",
        "flush": "发送本地队列中的事件",
        "status": "显示本地队列长度和服务器连通情况",
        "device-id": "显示本机的设备 ID（哈希值）",
    },
}


def main(argv=None):
    import argparse

    zh = _language() == "zh"
    words = _HELP["zh" if zh else "en"]

    class ChineseHelp(argparse.HelpFormatter):
        def add_usage(self, usage, actions, groups, prefix=None):
            return super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)

    def new_parser(make, *args, **kw):
        """A parser and where its options go: argparse says its own headings in English only, so in
        Chinese the help option and the options' heading are given here."""
        if not zh:
            made = make(*args, **kw)
            return made, made
        made = make(*args, add_help=False, formatter_class=ChineseHelp, **kw)
        options = made.add_argument_group("选项")
        options.add_argument("-h", "--help", action="help", help="显示此帮助信息并退出")
        return made, options

    parser, _ = new_parser(argparse.ArgumentParser, prog="tether_agent.py", description=words["description"])
    sub = parser.add_subparsers(dest="command", required=True, **({"title": "命令"} if zh else {}))
    _, rep = new_parser(sub.add_parser, "report", help=words["report"])
    rep.add_argument("--account", help=words["report_account"])
    rep.add_argument("--type", choices=("login", "operation", "heartbeat"))
    rep.add_argument("--op")
    rep.add_argument("--status", choices=("ok", "error"), default="ok")
    rep.add_argument("--code")
    _, chk = new_parser(sub.add_parser, "check", help=words["check"])
    chk.add_argument("--account", required=True, help="platform:ref")
    chk.add_argument("--op", required=True)
    chk.add_argument("--offline-policy", choices=OFFLINE_POLICIES)
    new_parser(sub.add_parser, "flush", help=words["flush"])
    new_parser(sub.add_parser, "status", help=words["status"])
    _, dev = new_parser(sub.add_parser, "device-id", help=words["device-id"])
    dev.add_argument("--salt")
    args = parser.parse_args(argv)

    try:
        agent = Agent()
        if args.command == "report":
            if not args.account and args.type != "heartbeat":
                parser.error("--account platform:ref is required")
            kind = args.type or ("operation" if args.op and args.op != "login" else "login")
            event_id = agent.report(args.account, type=kind, op=args.op, status=args.status, code=args.code)
            if not agent.last_flush["error"]:
                print(_msg("reported", id=event_id))
            return 0
        if args.command == "check":
            decision = agent.check(args.account, args.op, offline_policy=args.offline_policy)
            print(decision.describe())
            return decision.exit_code
        if args.command == "flush":
            result = agent.flush()
            print(_msg("flushed", sent=result["sent"], left=result["left"]))
            if result["error"]:
                print(result["error"], file=sys.stderr)
            return 1 if result["error"] else 0
        if args.command == "status":
            try:
                agent.whoami()
                reachable = "yes"
            except (_Unreachable, _Busy, TetherError) as err:
                reachable = "no (%s)" % err
            print(json.dumps({"spool_depth": agent.depth(), "spool_dir": agent.spool_dir, "reachable": reachable}))
            return 0
        if args.command == "device-id":
            print(device_id(args.salt) if args.salt else agent.device_id())
            return 0
    except TetherError as err:
        print("tether-agent: %s" % err, file=sys.stderr)
        return 2
    except (_Unreachable, _Busy) as err:
        print("tether-agent: server unreachable: %s" % err, file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
