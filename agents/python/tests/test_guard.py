"""guard(account, op): preflight, the block, and a report of its outcome."""

import pytest
import tether_agent


class CaptchaTimeout(Exception):
    pass


@pytest.fixture
def agent(server, admin, machine):
    return tether_agent.Agent(server=server.url, token=admin.environment(), environ=machine(), log=lambda line: None)


def test_a_block_that_succeeds_is_reported_ok(agent, admin, platform):
    ran = []
    with agent.guard(platform + ":store-1", "login") as decision:
        ran.append(decision.decision)
    assert ran == ["allow"]
    [event] = admin.events(platform)
    assert (event["type"], event["result"]["status"]) == ("login", "ok")


def test_a_block_that_raises_is_reported_with_the_exception_class(agent, admin, platform):
    with pytest.raises(CaptchaTimeout):
        with agent.guard(platform + ":store-1", "publish_listing"):
            raise CaptchaTimeout("the captcha never loaded")
    [event] = admin.events(platform)
    assert (event["type"], event["operation"]) == ("operation", "publish_listing")
    assert event["result"]["status"] == "error"
    assert event["result"]["code"] == "captcha_timeout"


def test_a_denied_operation_does_not_run(agent, admin, platform):
    agent.report(platform + ":store-1", op="login")
    admin.incident(platform)
    ran = []
    with pytest.raises(tether_agent.Denied) as denied:
        with agent.guard(platform + ":store-1", "payment_change"):
            ran.append(True)
    assert ran == []
    assert denied.value.decision.decision == "deny"
    assert "sensitive_op_during_incident" in str(denied.value)
    assert len(admin.events(platform)) == 1


def test_server_down_fails_closed_for_a_sensitive_operation(machine):
    agent = tether_agent.Agent(server="http://127.0.0.1:9", token="t", environ=machine(), log=lambda line: None)
    with pytest.raises(tether_agent.Denied) as denied:
        with agent.guard("tiktok_shop:us-1", "email_change"):
            pass
    assert denied.value.decision.policy == "fail-closed"
