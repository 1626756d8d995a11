"""`lec besu init`: every cross-reference of the generated folder, checked from the files themselves."""

from __future__ import annotations

import ipaddress
import json
import stat
import subprocess
from pathlib import Path, PurePosixPath

import jsonschema
import pytest
from besu_helpers import EXTRA_ACCOUNT, ROOT, Folder, run
from click.testing import CliRunner
from eth_account import Account
from eth_utils import to_checksum_address

from lec.besu.extradata import decode_extra_data
from lec.besu.keys import parse_enode, public_key_to_address

SCHEMA = json.loads((ROOT / "besu-network/genesis.schema.json").read_text())
VALIDATORS = [f"validator{i}" for i in range(1, 5)]


def address_of_key(folder: Folder, node: str) -> str:
    return Account.from_key(folder.key_text(node)).address


def test_folder_holds_four_validators_and_an_rpc_node(network):
    assert network.node_names() == sorted([*VALIDATORS, "rpcnode"])
    roles = {n["name"]: n["role"] for n in network.summary["nodes"]}
    assert roles == {**dict.fromkeys(VALIDATORS, "validator"), "rpcnode": "rpc"}


def test_extra_data_names_exactly_the_validator_keys_in_order(network):
    decoded = decode_extra_data(network.genesis["extraData"])
    assert decoded.validators == [address_of_key(network, v) for v in VALIDATORS]
    assert (decoded.vote, decoded.round, decoded.seals) == ([], 0, [])


def test_every_enode_matches_its_key_file_and_its_p2p_settings(network):
    for entry in network.summary["nodes"]:
        pubkey, host, port = parse_enode(entry["enode"])
        assert public_key_to_address(pubkey) == address_of_key(network, entry["name"]) == entry["address"]
        config = network.config(entry["name"])
        assert (host, port) == (config["p2p-host"], config["p2p-port"])
        pub_file = (network.root / "nodes" / entry["name"] / "key.pub").read_text().strip()
        assert pub_file == "0x" + pubkey


def test_genesis_passes_the_besu_schema_and_makes_gas_free(network):
    genesis = network.genesis
    jsonschema.Draft202012Validator(SCHEMA).validate(genesis)
    assert genesis["config"]["chainId"] == 1981
    assert genesis["config"]["zeroBaseFee"] is True
    assert genesis["config"]["shanghaiTime"] == 0  # contracts are compiled for Shanghai (PUSH0)
    qbft = genesis["config"]["qbft"]
    assert qbft["requesttimeoutseconds"] > qbft["blockperiodseconds"]


@pytest.mark.parametrize(
    "breakage",
    [
        lambda g: g["config"].pop("qbft"),
        lambda g: g["config"]["qbft"].update(blockperiodsecond=2),  # a misspelling Besu would silently ignore
        lambda g: g.update(difficulty="0x2"),
        lambda g: g["alloc"].update({"0xnot-an-address": {"balance": "0x1"}}),
    ],
)
def test_schema_refuses_a_broken_genesis(network, breakage):
    genesis = network.genesis
    breakage(genesis)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(genesis)


def test_allowlists_hold_every_node_and_the_deployer(network):
    deployer = Account.from_key((network.root / "deployer.key").read_text().strip()).address
    enodes = {n["enode"] for n in network.summary["nodes"]}
    for node in network.node_names():
        permissions = network.permissions(node)
        assert set(permissions["nodes-allowlist"]) == enodes
        assert permissions["accounts-allowlist"] == [deployer, EXTRA_ACCOUNT]
    assert to_checksum_address(next(iter(network.genesis["alloc"]))) == deployer


def test_node_configs_are_free_gas_permissioned_and_boot_from_allowed_validators(network):
    validator_enodes = {n["enode"] for n in network.summary["nodes"] if n["role"] == "validator"}
    for entry in network.summary["nodes"]:
        config = network.config(entry["name"])
        assert config["min-gas-price"] == 0
        assert config["permissions-nodes-config-file-enabled"] is True
        assert config["permissions-accounts-config-file-enabled"] is True
        bootnodes = set(config["bootnodes"])
        assert bootnodes == validator_enodes - {entry["enode"]}
        assert bootnodes <= set(network.permissions(entry["name"])["nodes-allowlist"])
    assert "PERM" not in network.config("rpcnode")["rpc-http-api"]
    assert {"QBFT", "PERM"} <= set(network.config("validator1")["rpc-http-api"])


def host_path(service: dict, root: Path, container_path: str) -> Path:
    """The host file a container path lands on, through the service's bind mounts."""
    target = PurePosixPath(container_path)
    for volume in service["volumes"]:
        source, mount = volume.split(":")[:2]
        if target == PurePosixPath(mount) or PurePosixPath(mount) in target.parents:
            return root / source / target.relative_to(mount)
    raise AssertionError(f"{container_path} is not under any volume of the service")


def test_compose_mounts_ports_and_addresses_match_the_configs(network):
    compose = network.compose
    summary = network.summary
    assert set(compose["services"]) == {n["name"] for n in summary["nodes"]}
    subnet = ipaddress.ip_network(compose["networks"]["lec-besu"]["ipam"]["config"][0]["subnet"])
    host_ports, ips = [], []
    for entry in summary["nodes"]:
        service = compose["services"][entry["name"]]
        config_path = service["command"][0].removeprefix("--config-file=")
        assert host_path(service, network.root, config_path) == network.root / "nodes" / entry["name"] / "config.toml"
        config = network.config(entry["name"])
        for key in ("genesis-file", "node-private-key-file", "permissions-nodes-config-file"):
            assert host_path(service, network.root, config[key]).is_file(), key
        assert host_path(service, network.root, config["node-private-key-file"]).read_text().strip() == (
            network.key_text(entry["name"])
        )
        (published,) = service["ports"]
        bind, host_port, container_port = published.split(":")
        assert bind == "127.0.0.1"
        assert int(container_port) == config["rpc-http-port"]
        assert entry["rpcUrl"] == f"http://127.0.0.1:{host_port}"
        ip = service["networks"]["lec-besu"]["ipv4_address"]
        assert ip == config["p2p-host"] == entry["ip"]
        assert ipaddress.ip_address(ip) in subnet
        host_ports.append(host_port)
        ips.append(ip)
    assert len(set(host_ports)) == len(host_ports) and len(set(ips)) == len(ips)
    assert compose["services"]["rpcnode"]["ports"] == ["127.0.0.1:8545:8545"]


def test_private_keys_are_0600_and_nowhere_else(network):
    secrets = [network.root / "deployer.key", *(network.root / "nodes" / n / "key" for n in network.node_names())]
    for path in secrets:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    hex_keys = {p.read_text().strip().removeprefix("0x") for p in secrets}
    for path in network.root.rglob("*"):
        if path.is_file() and path not in secrets:
            text = path.read_text()
            assert not any(k in text for k in hex_keys), f"{path} contains a private key"


def test_generated_folder_is_ignored_by_git():
    probe = "besu-network/generated/nodes/validator1/key"
    assert subprocess.run(["git", "check-ignore", "-q", probe], cwd=ROOT).returncode == 0


def test_second_init_into_the_same_folder_is_refused_and_keeps_the_keys(network):
    before = network.key_text("validator1")
    result = run("init", "--out", str(network.root))
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert network.key_text("validator1") == before


def test_deployer_from_the_environment_gets_no_generated_key(tmp_path):
    deployer = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    result = run("init", "--out", str(tmp_path / "net"), "--validators", "1", env={"LEC_DEPLOYER_ADDRESS": deployer})
    assert result.exit_code == 0, result.output
    folder = Folder(tmp_path / "net")
    assert not (folder.root / "deployer.key").exists()
    assert folder.permissions("rpcnode")["accounts-allowlist"] == [deployer]
    assert decode_extra_data(folder.genesis["extraData"]).validators == [address_of_key(folder, "validator1")]


def test_a_bad_deployer_address_is_refused_before_anything_is_written(tmp_path):
    result = run("init", "--out", str(tmp_path / "net"), "--deployer", "0x1234")
    assert result.exit_code != 0 and "not an Ethereum address" in result.output
    assert not (tmp_path / "net").exists()


def test_lec_root_command_lists_besu():
    from lec.cli import lec  # the root command: proves the one-line registration in lec/cli.py

    result = CliRunner().invoke(lec, ["besu", "--help"])
    assert result.exit_code == 0 and "init" in result.output and "join" in result.output
