"""report and check, from both agents, against a real tether server process."""

import pytest
import tether_agent
from conftest import free_port, run_agent

KINDS = ["sh", "py"]


@pytest.fixture
def agent_env(server, admin, machine):
    """A simulated machine with an agent token of a fresh environment."""

    def make(**kw):
        env = machine(**kw)
        env.update(TETHER_SERVER=server.url, TETHER_TOKEN=admin.environment())
        return env

    return make


@pytest.mark.parametrize("kind", KINDS)
def test_report_is_stored_once_with_the_hashed_device(agent_env, admin, platform, kind):
    env = agent_env()
    done = run_agent(kind, ["report", "--account", platform + ":store-1", "--op", "publish_listing"], env)
    assert done.returncode == 0, done.stderr
    done = run_agent(kind, ["report", "--account", platform + ":store-1", "--status", "error", "--code", "captcha"], env)
    assert done.returncode == 0, done.stderr
    assert admin.account(platform)["event_count"] == 2
    events = sorted(admin.events(platform), key=lambda e: e["type"])
    assert [e["type"] for e in events] == ["login", "operation"]
    assert events[1]["operation"] == "publish_listing"
    assert events[0]["result"]["code"] == "captcha"
    device = run_agent(kind, ["device-id"], env).stdout.strip()
    assert device.startswith("dev_")
    assert {e["env"]["device_id"] for e in events} == {device}
    assert {e["env"]["timezone"] for e in events} == {"America/Los_Angeles"}
    assert run_agent(kind, ["status"], env).returncode == 0


@pytest.mark.parametrize("kind", KINDS)
def test_check_exit_codes_follow_the_server_decision(agent_env, admin, platform, kind):
    account = platform + ":store-1"
    env = agent_env(hostname="shop-pc-01")
    assert run_agent(kind, ["report", "--account", account, "--op", "login"], env).returncode == 0

    allowed = run_agent(kind, ["check", "--account", account, "--op", "publish_listing"], env)
    assert (allowed.returncode, allowed.stdout.splitlines()[0]) == (0, "allow: go ahead"), allowed.stderr

    # Another machine (a borrowed laptop) on the same environment token: the device is not in the baseline.
    laptop = dict(env, TETHER_AGENT_HOSTNAME="borrowed-laptop", TETHER_AGENT_MACHINE_ID_FILE="/nonexistent")
    warned = run_agent(kind, ["check", "--account", account, "--op", "publish_listing"], laptop)
    assert warned.returncode == 10, warned.stdout + warned.stderr
    assert warned.stdout.startswith("warn:")
    assert "new_device (high)" in warned.stdout

    admin.incident(platform)
    denied = run_agent(kind, ["check", "--account", account, "--op", "binding_change"], env)
    assert denied.returncode == 20, denied.stdout + denied.stderr
    assert denied.stdout.startswith("deny:")
    assert "sensitive_op_during_incident" in denied.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_messages_follow_a_chinese_locale(agent_env, platform, kind):
    env = agent_env()
    env.update(LANG="en_US.UTF-8", LC_ALL="zh_CN.UTF-8")
    done = run_agent(kind, ["check", "--account", platform + ":store-1", "--op", "publish_listing"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("允许")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "op, policy, code, applied",
    [
        ("binding_change", None, 20, "fail-closed"),
        ("password_change", None, 20, "fail-closed"),
        ("publish_listing", None, 10, "fail-open"),
        ("publish_listing", "env:fail-closed", 20, "fail-closed"),
        ("binding_change", "flag:fail-open", 10, "fail-open"),
    ],
)
def test_server_down_policy(machine, kind, op, policy, code, applied):
    env = machine()
    env.update(TETHER_SERVER="http://127.0.0.1:%d" % free_port(), TETHER_TOKEN="agent-token")
    args = ["check", "--account", "tiktok_shop:us-1", "--op", op]
    if policy and policy.startswith("env:"):
        env["TETHER_OFFLINE_POLICY"] = policy[4:]
    elif policy:
        args += ["--offline-policy", policy[5:]]
    done = run_agent(kind, args, env)
    assert done.returncode == code, done.stdout + done.stderr
    assert "offline policy %s applied for %s" % (applied, op) in done.stdout


def test_module_check_returns_a_decision(server, admin, machine, platform):
    env = machine()
    agent = tether_agent.Agent(server=server.url, token=admin.environment(), environ=env)
    agent.report(platform + ":store-1", op="login")
    decision = agent.check(platform + ":store-1", "publish_listing")
    assert (decision.decision, decision.exit_code, decision.offline) == ("allow", 0, False)
    admin.incident(platform)
    denied = agent.check((platform, "store-1"), "bank_account_change")
    assert (denied.decision, denied.exit_code) == ("deny", 20)
    assert denied.incident["platform"] == platform
    assert [r["rule"] for r in denied.reasons] == ["sensitive_op_during_incident"]
