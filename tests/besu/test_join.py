"""`lec besu join` and `lec besu allow-account` on a freshly generated network folder."""

from __future__ import annotations

import ipaddress
import json
import re
import stat

import pytest
import yaml
from besu_helpers import Folder, run
from eth_account import Account

from lec.besu.keys import parse_enode, public_key_to_address


@pytest.fixture
def folder(tmp_path) -> Folder:
    result = run("init", "--out", str(tmp_path / "net"), env={"LEC_DEPLOYER_ADDRESS": ""})
    assert result.exit_code == 0, result.output
    return Folder(tmp_path / "net")


def curl_calls(output: str) -> list[tuple[str, dict]]:
    """(url, JSON-RPC body) of every curl command the CLI printed."""
    return [(url, json.loads(body)) for body, url in re.findall(r"--data '(.+?)' (\S+)", output)]


def test_join_prepares_a_node_every_allowlist_admits(folder):
    before = folder.summary
    result = run("join", "meter-gw", "--dir", str(folder.root))
    assert result.exit_code == 0, result.output
    new = folder.summary["nodes"][-1]
    assert new["name"] == "meter-gw" and new["role"] == "member"
    key = folder.key_text("meter-gw")
    assert stat.S_IMODE((folder.root / "nodes/meter-gw/key").stat().st_mode) == 0o600
    pubkey, host, _ = parse_enode(new["enode"])
    assert public_key_to_address(pubkey) == Account.from_key(key).address == new["address"]
    for node in folder.node_names():
        assert new["enode"] in folder.permissions(node)["nodes-allowlist"]
    config = folder.config("meter-gw")
    validators = {n["enode"] for n in before["nodes"] if n["role"] == "validator"}
    assert set(config["bootnodes"]) == validators and config["p2p-host"] == host
    assert folder.permissions("meter-gw")["accounts-allowlist"] == before["accounts"]
    # The compose override puts it on the same bridge at a free address and a free host port.
    override = yaml.safe_load((folder.root / "docker-compose.meter-gw.yml").read_text())
    service = override["services"]["meter-gw"]
    assert service["networks"]["lec-besu"]["ipv4_address"] == host
    assert host not in {n["ip"] for n in before["nodes"]}
    assert ipaddress.ip_address(host) in ipaddress.ip_network(before["subnet"])
    assert service["ports"][0].split(":")[1] not in {n["rpcUrl"].rsplit(":", 1)[1] for n in before["nodes"]}
    # The running nodes that serve PERM are told; the RPC node is restarted.
    calls = curl_calls(result.output)
    targets = {n["rpcUrl"] for n in before["nodes"] if n["role"] != "rpc"}
    assert {url for url, _ in calls} == targets
    assert all(b["method"] == "perm_addNodesToAllowlist" and b["params"] == [[new["enode"]]] for _, b in calls)
    assert "docker compose restart rpcnode" in result.output


def test_join_as_validator_prints_a_vote_from_every_validator(folder):
    result = run("join", "dso", "--dir", str(folder.root), "--validator")
    assert result.exit_code == 0, result.output
    new = folder.summary["nodes"][-1]
    votes = [(url, b) for url, b in curl_calls(result.output) if b["method"] == "qbft_proposeValidatorVote"]
    validators = {n["rpcUrl"] for n in folder.summary["nodes"] if n["role"] == "validator"}
    assert {url for url, _ in votes} == validators
    assert all(b["params"] == [new["address"], True] for _, b in votes)


def test_join_refuses_a_taken_or_bad_name_and_changes_nothing(folder):
    snapshot = {p: p.read_bytes() for p in folder.root.rglob("*") if p.is_file()}
    for name in ("validator1", "Bad Name"):
        result = run("join", name, "--dir", str(folder.root))
        assert result.exit_code != 0
        assert "choose another name" in result.output or "lowercase" in result.output
    assert {p: p.read_bytes() for p in folder.root.rglob("*") if p.is_file()} == snapshot


def test_join_needs_a_network_folder(tmp_path):
    result = run("join", "x", "--dir", str(tmp_path))
    assert result.exit_code != 0 and "lec besu init" in result.output


def test_two_joins_get_distinct_addresses_and_ports(folder):
    assert run("join", "a", "--dir", str(folder.root)).exit_code == 0
    assert run("join", "b", "--dir", str(folder.root)).exit_code == 0
    nodes = folder.summary["nodes"]
    assert len({n["ip"] for n in nodes}) == len({n["rpcUrl"] for n in nodes}) == len(nodes) == 7
    # b's allowlist and every older node's hold a's enode too
    a = nodes[-2]["enode"]
    assert all(a in folder.permissions(n)["nodes-allowlist"] for n in folder.node_names())


def test_allow_account_extends_every_allowlist_once(folder):
    account = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
    result = run("allow-account", account.lower(), "--dir", str(folder.root))
    assert result.exit_code == 0, result.output
    for node in folder.node_names():
        assert folder.permissions(node)["accounts-allowlist"][-1] == account
    calls = curl_calls(result.output)
    assert {b["method"] for _, b in calls} == {"perm_addAccountsToAllowlist"}
    assert all(b["params"] == [[account]] for _, b in calls)
    again = run("allow-account", account, "--dir", str(folder.root))
    assert again.exit_code != 0 and "already" in again.output


def test_allow_account_refuses_a_non_address(folder):
    before = folder.permissions("validator1")
    result = run("allow-account", "0xnope", "--dir", str(folder.root))
    assert result.exit_code != 0 and "not an Ethereum address" in result.output
    assert folder.permissions("validator1") == before
