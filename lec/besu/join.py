"""Adding a node or an account to a running network: the new files, the allowlist edits, the RPC calls.

Besu keeps its allowlists in each node's memory and rewrites the node's permissions file itself when they
change over JSON-RPC (`perm_addNodesToAllowlist`, `perm_addAccountsToAllowlist`). So a change is both: the
files here (what a restarted node reads) and the calls (what a running node needs). The RPC node serves no
PERM API, so it takes a change by a restart.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass

import yaml
from eth_utils import is_address, to_checksum_address

from lec.besu.keys import NodeKey
from lec.besu.layout import FIRST_HOST, FileSpec, Node, compose_service, node_config, permissions_config


@dataclass(frozen=True)
class RpcCall:
    node: str
    url: str
    method: str
    params: list

    def curl(self) -> str:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": self.method, "params": self.params})
        return f"curl -s -X POST -H 'Content-Type: application/json' --data '{body}' {self.url}"


@dataclass(frozen=True)
class Change:
    """What a join or an account admission writes and which calls apply it to the running nodes."""

    files: dict[str, FileSpec]
    calls: list[RpcCall]
    restart: list[str]  # services that only take the change by a restart
    summary: dict


def _live_calls(summary: dict, method: str, params: list, validators_only: bool = False) -> list[RpcCall]:
    """The call on every node that serves the PERM and QBFT APIs (all but the RPC node)."""
    roles = {"validator"} if validators_only else {"validator", "member", "validator-candidate"}
    return [RpcCall(n["name"], n["rpcUrl"], method, params) for n in summary["nodes"] if n["role"] in roles]


def _restart(summary: dict) -> list[str]:
    return [n["name"] for n in summary["nodes"] if n["role"] == "rpc"]


def _updated_permissions(permissions: dict[str, dict], enodes: list[str], accounts: list[str]) -> dict[str, FileSpec]:
    return {
        f"nodes/{name}/permissions_config.toml": FileSpec(
            permissions_config(
                [*current.get("nodes-allowlist", []), *enodes], [*current.get("accounts-allowlist", []), *accounts]
            )
        )
        for name, current in permissions.items()
    }


def plan_join(summary: dict, permissions: dict[str, dict], name: str, key: NodeKey, validator: bool) -> Change:
    """A new node `name` with `key` on the network's bridge: its folder, a compose override to start it,
    every local allowlist extended with its enode, and the calls that admit it (and, with `validator`, the
    `qbft_proposeValidatorVote` of every validator: it becomes a validator once more than half voted)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,40}", name):
        raise ValueError(f"Node name {name!r} must be lowercase letters, digits and dashes (it names a folder).")
    if any(n["name"] == name for n in summary["nodes"]):
        raise ValueError(f"The network already has a node named {name!r}: choose another name.")
    if any(n["address"] == key.address for n in summary["nodes"]):
        raise ValueError("That key already belongs to a node of this network: a new node needs a new key.")
    used = {n["ip"] for n in summary["nodes"]}
    hosts = list(ipaddress.ip_network(summary["subnet"]).hosts())[FIRST_HOST - 1 :]
    ip = next((str(h) for h in hosts if str(h) not in used), None)
    if ip is None:
        raise ValueError(f"No free address is left in subnet {summary['subnet']}.")
    port = max(int(n["rpcUrl"].rsplit(":", 1)[1]) for n in summary["nodes"]) + 1
    node = Node(name, "member", key, ip, port)
    validators = [n["enode"] for n in summary["nodes"] if n["role"] == "validator"]
    all_enodes = [n["enode"] for n in summary["nodes"]] + [node.enode]

    files = _updated_permissions(permissions, [node.enode], [])
    base = f"nodes/{name}"
    files[f"{base}/key"] = FileSpec(key.private_key_file() + "\n", secret=True)
    files[f"{base}/key.pub"] = FileSpec(key.public_key_file() + "\n")
    files[f"{base}/address"] = FileSpec(key.address + "\n")
    files[f"{base}/config.toml"] = FileSpec(node_config(node, validators))
    files[f"{base}/permissions_config.toml"] = FileSpec(permissions_config(all_enodes, summary["accounts"]))
    override = {"services": {name: compose_service(node, summary["image"])}}
    files[f"docker-compose.{name}.yml"] = FileSpec(
        f"# Start: docker compose -f docker-compose.yml -f docker-compose.{name}.yml up -d {name}\n"
        + yaml.safe_dump(override, sort_keys=False)
    )

    new_summary = json.loads(json.dumps(summary))
    new_summary["nodes"].append(
        {
            "name": name,
            "role": "validator-candidate" if validator else "member",
            "address": key.address,
            "publicKey": key.public_key_hex,
            "ip": ip,
            "p2pPort": node.p2p_port,
            "rpcUrl": f"http://127.0.0.1:{port}",
            "enode": node.enode,
        }
    )
    files["network.json"] = FileSpec(json.dumps(new_summary, indent=2) + "\n")

    calls = _live_calls(summary, "perm_addNodesToAllowlist", [[node.enode]])
    if validator:
        calls += _live_calls(summary, "qbft_proposeValidatorVote", [key.address, True], validators_only=True)
    return Change(files, calls, restart=_restart(summary), summary=new_summary)


def plan_allow_account(summary: dict, permissions: dict[str, dict], account: str) -> Change:
    """Admits `account` as a transaction sender on every node of the folder."""
    if not is_address(account):
        raise ValueError(f"{account!r} is not an Ethereum address (0x followed by 40 hex digits).")
    account = to_checksum_address(account)
    if account in summary["accounts"]:
        raise ValueError(f"{account} is already in the accounts allowlist: nothing to do.")
    files = _updated_permissions(permissions, [], [account])
    new_summary = {**summary, "accounts": [*summary["accounts"], account]}
    files["network.json"] = FileSpec(json.dumps(new_summary, indent=2) + "\n")
    calls = _live_calls(summary, "perm_addAccountsToAllowlist", [[account]])
    return Change(files, calls, restart=_restart(summary), summary=new_summary)
