"""The device id: one algorithm in every agent, checked against the shared known-answer vectors."""

import json
import os

import pytest
import tether_agent
from conftest import REPO, run_agent

VECTORS = json.loads((REPO / "test" / "fixtures" / "device-id-vectors.json").read_text())["vectors"]


def build(tmp_path, vector):
    net = tmp_path / "sys" / "class" / "net"
    net.mkdir(parents=True)
    for iface in vector["interfaces"]:
        entry = net / iface["name"]
        if iface["target"]:
            real = (net / iface["target"]).resolve()
            real.mkdir(parents=True)
            os.symlink(iface["target"], entry)
        else:
            entry.mkdir()
        if iface["address"] is not None:
            (entry / "address").write_text(iface["address"])
    machine_id = tmp_path / "machine-id"
    if vector["machine_id_file"] is not None:
        machine_id.write_text(vector["machine_id_file"])
    return {
        "TETHER_AGENT_MACHINE_ID_FILE": str(machine_id),
        "TETHER_AGENT_HOSTNAME": vector["hostname"],
        "TETHER_AGENT_SYS_NET": str(net),
    }


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_python_module_matches_the_vector(tmp_path, vector):
    env = build(tmp_path, vector)
    assert tether_agent.machine_identity(env)[2] == vector["expected_macs"]
    assert tether_agent.device_id(vector["salt"], env) == vector["expected"]


@pytest.mark.parametrize("kind", ["sh", "py"])
@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_agent_commands_match_the_vector(tmp_path, vector, kind):
    env = build(tmp_path, vector)
    done = run_agent(kind, ["device-id", "--salt", vector["salt"]], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == vector["expected"]


@pytest.mark.parametrize("kind", ["sh", "py"])
def test_device_id_is_stable_and_differs_between_machines(machine, kind):
    first = machine(hostname="shop-pc-01", machine_id="a" * 32)
    again = dict(first, TETHER_AGENT_SPOOL_DIR=first["TETHER_AGENT_SPOOL_DIR"] + "-2")
    other = machine(hostname="shop-pc-02", machine_id="b" * 32, macs=("3c:22:fb:00:00:02",))
    ids = [run_agent(kind, ["device-id", "--salt", "ws_1"], env).stdout.strip() for env in (first, again, other)]
    assert ids[0].startswith("dev_") and len(ids[0]) == 36
    assert ids[0] == ids[1]
    assert ids[0] != ids[2]
    # The salt is the workspace: the same machine is a different device to another workspace.
    assert run_agent(kind, ["device-id", "--salt", "ws_2"], first).stdout.strip() != ids[0]


@pytest.mark.parametrize("kind", ["sh", "py"])
def test_no_raw_machine_identity_leaves_the_machine(machine, recorder, kind):
    raw_id, host, mac = "f00dfeedcafe4b1d9e0c0ffee1234567", "secret-host-42", "3c:22:fb:9a:8b:7c"
    env = machine(hostname=host, machine_id=raw_id, macs=(mac,))
    srv = recorder()
    env.update(TETHER_SERVER=srv.url, TETHER_TOKEN="agent-token")
    for args in (
        ["report", "--account", "tiktok_shop:us-1", "--op", "publish_listing"],
        ["check", "--account", "tiktok_shop:us-1", "--op", "login"],
    ):
        run_agent(kind, args, env)
    sent = [(r["path"], json.dumps(r["headers"]) + r["body"]) for r in srv.requests]
    assert any(path == "/v1/events" for path, _ in sent), sent
    expected = tether_agent.device_id("ws_recorder", env)
    assert any(expected in text for path, text in sent if path == "/v1/events")
    for _, text in sent:
        for raw in (raw_id, host, mac, mac.replace(":", "")):
            assert raw not in text.lower()
