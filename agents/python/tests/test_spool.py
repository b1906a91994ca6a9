"""The spools: nothing reported while the server is away is lost, nothing is stored twice, Retry-After is obeyed."""

import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import tether_agent
from conftest import AGENTS, run_agent

PY_EVENTS = 200
SH_EVENTS = 25


def test_events_reported_while_the_server_is_down_are_all_delivered_once(server, admin, machine):
    token = admin.environment()
    py_platform, sh_platform = "py_outage_py", "py_outage_sh"
    # Fresh machines that have never reached the server: they cannot know the salt of their device id yet.
    py_env = dict(machine(hostname="py-box"), TETHER_SERVER=server.url, TETHER_TOKEN=token)
    sh_env = dict(machine(hostname="sh-box"), TETHER_SERVER=server.url, TETHER_TOKEN=token)
    server.stop()
    try:
        agent = tether_agent.Agent(environ=py_env, log=lambda line: None)
        for i in range(PY_EVENTS):
            agent.report("%s:store-%d" % (py_platform, i % 2), op="publish_listing" if i % 3 else "login")
        assert agent.depth() == PY_EVENTS
        for i in range(SH_EVENTS):
            done = run_agent("sh", ["report", "--account", sh_platform + ":store-1", "--op", "inventory_sync"], sh_env)
            assert done.returncode == 0, done.stderr
            assert "kept in the spool (%d waiting)" % (i + 1) in done.stderr
    finally:
        server.start()

    # Two agent processes flush the Python spool at once: between them each event is sent once.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: run_agent("py", ["flush"], py_env, timeout=120), range(2)))
    sent = [int(re.search(r"sent (\d+)", r.stdout).group(1)) for r in runs]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    assert sum(sent) == PY_EVENTS, sent
    done = run_agent("sh", ["flush"], sh_env)
    assert done.returncode == 0, done.stderr

    py_events = [e for ref in ("store-0", "store-1") for e in admin_events(admin, py_platform, ref)]
    assert len(py_events) == PY_EVENTS
    assert len({e["id"] for e in py_events}) == PY_EVENTS
    sh_events = admin_events(admin, sh_platform, "store-1")
    assert len(sh_events) == SH_EVENTS
    # The device id was filled in at send time, and is the machine's.
    assert {e["env"]["device_id"] for e in py_events} == {run_agent("py", ["device-id"], py_env).stdout.strip()}
    assert {e["env"]["device_id"] for e in sh_events} == {run_agent("sh", ["device-id"], sh_env).stdout.strip()}
    assert tether_agent.Agent(environ=py_env).depth() == 0
    assert "0 waiting" in run_agent("sh", ["status"], sh_env).stdout


def admin_events(admin, platform, ref):
    res = admin.http.get("/v1/accounts", params={"platform": platform, "limit": 500})
    [account] = [a for a in res.json()["accounts"] if a["ref"] == ref]
    assert account["event_count"] is not None
    res = admin.http.get("/v1/accounts/%s/events" % account["id"], params={"limit": 500})
    events = res.json()["events"]
    assert account["event_count"] == len(events)
    return events


@pytest.mark.parametrize("status", [503, 429])
def test_python_waits_as_long_as_retry_after_says(machine, recorder, status):
    srv = recorder([(status, [("Retry-After", "1")])])
    agent = tether_agent.Agent(server=srv.url, token="t", environ=machine(), log=lambda line: None)
    for _ in range(3):
        agent.report("tiktok_shop:us-1", op="login", send=False)
    result = agent.flush()
    assert result == {"sent": 3, "left": 0, "error": None}
    first, second = srv.posts()
    assert second["at"] - first["at"] >= 1.0
    assert json.loads(first["body"]) == json.loads(second["body"])


@pytest.mark.parametrize("kind", ["sh", "py"])
def test_a_long_retry_after_keeps_the_event_and_the_agent_away(machine, recorder, kind):
    srv = recorder([(503, [("Retry-After", "120")])])
    env = dict(machine(), TETHER_SERVER=srv.url, TETHER_TOKEN="t")
    done = run_agent(kind, ["report", "--account", "tiktok_shop:us-1", "--op", "login"], env)
    assert done.returncode == 0, done.stderr
    assert len(srv.posts()) == 1
    # A later flush within those 120 s does not knock: the event stays in the spool.
    done = run_agent(kind, ["flush"], env)
    assert done.returncode == 1
    assert len(srv.posts()) == 1
    assert re.search(r"\b1 waiting|left\W+1|1 \S*waiting|还有 1", done.stdout + done.stderr)


def test_shell_flush_waits_as_long_as_retry_after_says(machine, recorder):
    srv = recorder([(503, [("Retry-After", "1")]), (429, [("Retry-After", "1")])])
    env = dict(machine(), TETHER_SERVER=srv.url, TETHER_TOKEN="t")
    for _ in range(2):
        env_down = dict(env, TETHER_SERVER="http://127.0.0.1:9")
        assert run_agent("sh", ["report", "--account", "tiktok_shop:us-1", "--op", "login"], env_down).returncode == 0
    done = run_agent("sh", ["flush"], env)
    assert done.returncode == 0, done.stderr
    posts = srv.posts()
    assert len(posts) == 3
    assert posts[1]["at"] - posts[0]["at"] >= 1.0 and posts[2]["at"] - posts[1]["at"] >= 1.0
    assert len(json.loads(posts[2]["body"])["events"]) == 2


def test_a_line_torn_by_a_crash_does_not_swallow_the_next_event(machine, recorder):
    env = machine()
    agent = tether_agent.Agent(server="http://127.0.0.1:9", token="t", environ=env, log=lambda line: None)
    agent.report("tiktok_shop:us-1", op="login", send=False)
    with open(agent._path("spool.jsonl"), "a") as f:
        f.write('{"id":"half-writ')  # what kill -9 in the middle of an append leaves
    agent.report("tiktok_shop:us-1", op="login", send=False)
    srv = recorder()
    assert tether_agent.Agent(server=srv.url, token="t", environ=env).flush()["sent"] == 2
    [post] = srv.posts()
    assert len(json.loads(post["body"])["events"]) == 2


@pytest.mark.parametrize("kind", ["sh", "py"])
def test_an_event_the_server_refuses_is_set_aside_and_the_rest_delivered(machine, recorder, kind):
    srv = recorder([(400, []), (400, [])])  # the batch, then its first event alone
    env = dict(machine(), TETHER_SERVER=srv.url, TETHER_TOKEN="t")
    for _ in range(2):
        done = run_agent(kind, ["report", "--account", "tiktok_shop:us-1"], dict(env, TETHER_SERVER="http://127.0.0.1:9"))
        assert done.returncode == 0, done.stderr
    done = run_agent(kind, ["flush"], env)
    assert done.returncode == 0, done.stderr
    assert "refused" in done.stderr
    # Whatever the batches looked like, the last answer delivered exactly one event and one was refused.
    posts = srv.posts()
    assert len(posts) == 3
    assert len(json.loads(posts[-1]["body"])["events"]) == 1
    device = tether_agent.device_id("ws_recorder", env)
    for post in posts:
        assert device in post["body"] and "@DEVICE@" not in post["body"] and "_tether_device" not in post["body"]
    spool = env["TETHER_AGENT_SPOOL_DIR"]
    rejected = os.listdir(os.path.join(spool, "rejected")) if kind == "sh" else _lines(spool, "rejected.jsonl")
    assert len(rejected) == 1
    if kind == "sh":
        assert "0 waiting" in run_agent("sh", ["status"], env).stdout
    else:
        assert tether_agent.Agent(environ=env).depth() == 0


def _lines(spool, name):
    with open(os.path.join(spool, name)) as f:
        return f.read().splitlines()


def test_kill_9_in_the_middle_of_a_flush_loses_nothing_and_resends_only_the_unacknowledged(machine, recorder):
    srv = recorder([(202, []), ("hang", [])])
    env = dict(machine(), TETHER_SERVER=srv.url, TETHER_TOKEN="t")
    agent = tether_agent.Agent(environ=env, log=lambda line: None)
    total = 2 * tether_agent.BATCH_SIZE + 50
    ids = {agent.report("tiktok_shop:us-1", op="login", send=False) for _ in range(total)}
    cmd = [sys.executable, str(AGENTS / "python" / "tether_agent.py"), "flush"]
    proc = subprocess.Popen(cmd, env=dict(env, PATH=os.environ["PATH"]), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(srv.posts()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(srv.posts()) == 2, proc.communicate()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    later = recorder()
    agent = tether_agent.Agent(environ=dict(env, TETHER_SERVER=later.url), log=lambda line: None)
    assert agent.flush() == {"sent": total - tether_agent.BATCH_SIZE, "left": 0, "error": None}
    sent = lambda posts: [e["id"] for p in posts for e in json.loads(p["body"])["events"]]  # noqa: E731
    acknowledged, unanswered = sent(srv.posts()[:1]), sent(srv.posts()[1:])
    resent = sent(later.posts())
    assert set(acknowledged) | set(resent) == ids
    assert not set(acknowledged) & set(resent)  # what got a 202 is never sent again
    assert set(unanswered) <= set(resent)
    assert len(resent) == len(set(resent))
