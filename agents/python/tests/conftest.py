"""A real tether server process per session (and a restartable one for outage tests), reached with httpx."""

import http.server
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[3]
AGENTS = REPO / "agents"
sys.path.insert(0, str(AGENTS / "python"))

BOOTSTRAP = "bootstrap-" + secrets.token_hex(12)
READY_TIMEOUT = 90  # seconds; the machine may be loaded, and the first start migrates a fresh database


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`node bin/tether.js serve` on a fresh data dir; stop() and start() keep the port and the data."""

    def __init__(self, data_dir, log_path):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.data_dir = data_dir
        self.log_path = log_path
        self.proc = None

    def start(self):
        env = dict(os.environ)
        env.pop("DATABASE_URL", None)  # embedded PGlite in our own data dir, whatever the caller runs on
        env.update(
            PORT=str(self.port),
            HOST="127.0.0.1",
            TETHER_DATA_DIR=str(self.data_dir),
            TETHER_BOOTSTRAP_TOKEN=BOOTSTRAP,
            TETHER_LOG_LEVEL="warn",
            # One event establishes a baseline, so a deviating env is judged (warn) without a day of history.
            TETHER_LEARNING_EVENTS="1",
            TETHER_LEARNING_HOURS="0",
        )
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["node", str(REPO / "bin" / "tether.js"), "serve"], cwd=str(REPO), env=env, stdout=log, stderr=log
        )
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("tether exited while starting:\n" + Path(self.log_path).read_text()[-3000:])
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("tether was not ready in %d s" % READY_TIMEOUT)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Admin:
    """The bootstrap admin token, through httpx: what an operator does in the API."""

    def __init__(self, url):
        self.http = httpx.Client(base_url=url, headers={"authorization": "Bearer " + BOOTSTRAP}, timeout=30)

    def environment(self):
        res = self.http.post("/v1/environments", json={"name": "pytest-" + uuid.uuid4().hex[:8], "account_ids": []})
        assert res.status_code == 201, res.text
        return res.json()["token"]

    def account(self, platform):
        res = self.http.get("/v1/accounts", params={"platform": platform})
        assert res.status_code == 200, res.text
        accounts = res.json()["accounts"]
        assert len(accounts) == 1, accounts
        return accounts[0]

    def events(self, platform):
        account = self.account(platform)
        res = self.http.get("/v1/accounts/%s/events" % account["id"], params={"limit": 500})
        assert res.status_code == 200, res.text
        return res.json()["events"]

    def incident(self, platform):
        res = self.http.post("/v1/incidents", json={"platform": platform, "title": "checkout failing"})
        assert res.status_code == 201, res.text
        return res.json()


def _server(tmp_path_factory, name):
    base = tmp_path_factory.mktemp(name)
    return Server(base / "data", base / "server.log")


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    srv = _server(tmp_path_factory, "tether").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def admin(server):
    return Admin(server.url)


@pytest.fixture
def outage_server(tmp_path_factory):
    """A server of its own, for tests that stop and start it."""
    srv = _server(tmp_path_factory, "tether-outage").start()
    yield srv
    srv.stop()


def unique_platform():
    return "py_" + uuid.uuid4().hex[:12]


@pytest.fixture
def platform():
    return unique_platform()


@pytest.fixture
def machine(tmp_path):
    """A simulated machine: its own machine id, host name, network cards, spool and config dir."""

    def make(hostname="shop-pc-01", machine_id=None, macs=("3c:22:fb:00:00:01",)):
        root = tmp_path / ("machine-" + uuid.uuid4().hex[:6])
        net = root / "sys" / "class" / "net"
        net.mkdir(parents=True)
        for i, mac in enumerate(macs):
            (net / ("eth%d" % i)).mkdir()
            (net / ("eth%d" % i) / "address").write_text(mac + "\n")
        (root / "machine-id").write_text((machine_id or uuid.uuid4().hex) + "\n")
        return {
            "TETHER_AGENT_MACHINE_ID_FILE": str(root / "machine-id"),
            "TETHER_AGENT_HOSTNAME": hostname,
            "TETHER_AGENT_SYS_NET": str(net),
            "TETHER_AGENT_SPOOL_DIR": str(root / "spool"),
            "TETHER_AGENT_CONFIG": str(root / "agent.env"),
            "HOME": str(root),
            "LANG": "en_US.UTF-8",
            "TZ": "America/Los_Angeles",
        }

    return make


def run_agent(kind, args, env, timeout=60):
    """One agent process, as a script would run it: the shell agent under dash, or the Python CLI."""
    full = {"PATH": os.environ["PATH"], **env}
    if kind == "sh":
        cmd = ["dash", str(AGENTS / "tether-agent.sh")] + list(args)
    else:
        cmd = [sys.executable, str(AGENTS / "python" / "tether_agent.py")] + list(args)
    return subprocess.run(cmd, env=full, capture_output=True, text=True, timeout=timeout)


class Recorder(http.server.ThreadingHTTPServer):
    """A tiny stand-in server: answers from a script, records every request (time, path, headers, body)."""

    daemon_threads = True

    def __init__(self, script):
        self.script = script  # list of (status | "hang", headers) for POST /v1/events, then 202 for ever
        self.requests = []
        self.released = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = "http://127.0.0.1:%d" % self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def posts(self):
        return [r for r in self.requests if r["method"] == "POST" and r["path"] == "/v1/events"]


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _record(self, method):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        self.server.requests.append(
            {
                "at": time.monotonic(),
                "method": method,
                "path": self.path,
                "headers": dict(self.headers.items()),
                "body": body,
            }
        )
        return body

    def _answer(self, status, payload, headers=()):
        data = json.dumps(payload).encode()
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._record("GET")
        if self.path == "/v1/whoami":
            self._answer(200, {"workspace": {"id": "ws_recorder", "slug": "default"}, "source_ip": "127.0.0.1"})
        else:
            self._answer(404, {"error": {"code": "not_found", "message": "no", "request_id": "r"}})

    def do_POST(self):
        body = self._record("POST")
        if self.path != "/v1/events":
            self._answer(404, {"error": {"code": "not_found", "message": "no", "request_id": "r"}})
            return
        status, headers = self.server.script.pop(0) if self.server.script else (202, [])
        if status == "hang":
            # a server that never answers, until the test ends: the agent is killed while it waits
            self.server.released.wait(60)
            return
        if status != 202:
            self._answer(status, {"error": {"code": "unavailable", "message": "busy", "request_id": "r"}}, headers)
            return
        n = len(json.loads(body)["events"])
        self._answer(202, {"accepted": n, "duplicates": 0, "results": []})


@pytest.fixture
def recorder():
    servers = []

    def make(script=()):
        srv = Recorder(list(script))
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.released.set()
        srv.shutdown()
        srv.server_close()
