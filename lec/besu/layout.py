"""The network folder `lec besu init` writes, as pure data: relative path -> file contents.

One Docker bridge network with fixed addresses, because Besu's node allowlist matches enode URLs by IP
(host names need Besu's DNS options). Each node has its own folder mounted at `NODE_DIR` with its key,
`config.toml` and `permissions_config.toml`; Besu rewrites that permissions file when the allowlist changes
over JSON-RPC, so every node keeps its own copy.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml
from eth_utils import to_checksum_address

from lec.besu import toml
from lec.besu.genesis import ChainParams, build_genesis
from lec.besu.keys import NodeKey

IMAGE = "hyperledger/besu:24.12.2"
SUBNET = "172.16.239.0/24"
FIRST_HOST = 11  # validator1 is .11, then one address per node in order
P2P_PORT = 30303
RPC_PORT = 8545  # inside every container; the host ports are RPC_PORT + index (RPC node: RPC_PORT)
NODE_DIR = "/opt/besu/node"
GENESIS_PATH = "/opt/besu/genesis.json"
NETWORK_NAME = "lec-besu"

# Validators and joined nodes serve the admin APIs, but only on the host's loopback; the RPC node is what
# clients use and serves no admin API.
ADMIN_APIS = ["ETH", "NET", "WEB3", "TXPOOL", "QBFT", "ADMIN", "PERM"]
CLIENT_APIS = ["ETH", "NET", "WEB3", "TXPOOL"]


@dataclass(frozen=True)
class Node:
    name: str
    role: str  # "validator", "rpc" or "member" (joined, not (yet) a validator)
    key: NodeKey
    ip: str
    host_rpc_port: int
    p2p_port: int = P2P_PORT

    @property
    def enode(self) -> str:
        return self.key.enode(self.ip, self.p2p_port)

    @property
    def apis(self) -> list[str]:
        return CLIENT_APIS if self.role == "rpc" else ADMIN_APIS


@dataclass(frozen=True)
class Network:
    nodes: list[Node]
    deployer: str
    accounts: list[str] = field(default_factory=list)
    params: ChainParams = field(default_factory=ChainParams)
    image: str = IMAGE
    subnet: str = SUBNET

    @property
    def validators(self) -> list[Node]:
        return [n for n in self.nodes if n.role == "validator"]

    @property
    def allowed_accounts(self) -> list[str]:
        """The deployer first, then the other accounts, each once."""
        return list(dict.fromkeys([self.deployer, *self.accounts]))


def plan(
    keys: list[NodeKey],
    deployer: str,
    accounts: Sequence[str] = (),
    params: ChainParams | None = None,
    rpc_port: int = RPC_PORT,
    image: str = IMAGE,
    subnet: str = SUBNET,
) -> Network:
    """A network whose validators hold `keys[:-1]` and whose RPC node holds `keys[-1]`."""
    if len(keys) < 2:
        raise ValueError("A network needs at least one validator key and one RPC node key.")
    if len({k.address for k in keys}) != len(keys):
        raise ValueError("Two nodes share a key: every node needs its own key.")
    hosts = list(ipaddress.ip_network(subnet).hosts())
    if len(hosts) < FIRST_HOST + len(keys):
        raise ValueError(f"Subnet {subnet} is too small for {len(keys)} nodes starting at host .{FIRST_HOST}.")
    *validator_keys, rpc_key = keys
    nodes = [
        Node(f"validator{i}", "validator", key, str(hosts[FIRST_HOST - 1 + i - 1]), rpc_port + i)
        for i, key in enumerate(validator_keys, start=1)
    ]
    nodes.append(Node("rpcnode", "rpc", rpc_key, str(hosts[FIRST_HOST - 1 + len(validator_keys)]), rpc_port))
    return Network(
        nodes=nodes,
        deployer=to_checksum_address(deployer),
        accounts=[to_checksum_address(a) for a in accounts],
        params=params or ChainParams(),
        image=image,
        subnet=subnet,
    )


def node_config(node: Node, bootnodes: list[str]) -> str:
    """`config.toml` of one node: free gas, its RPC APIs, p2p on its fixed IP, `bootnodes` (the validators
    but itself), and both allowlists read from its own permissions file."""
    permissions = f"{NODE_DIR}/permissions_config.toml"
    values: dict[str, object] = {
        "genesis-file": GENESIS_PATH,
        "data-path": f"{NODE_DIR}/data",
        "node-private-key-file": f"{NODE_DIR}/key",
        "sync-mode": "FULL",
        "min-gas-price": 0,
        "revert-reason-enabled": True,
        "p2p-host": node.ip,
        "p2p-port": node.p2p_port,
        "bootnodes": [b for b in bootnodes if b != node.enode],
        "rpc-http-enabled": True,
        "rpc-http-host": "0.0.0.0",
        "rpc-http-port": RPC_PORT,
        "rpc-http-api": node.apis,
        "host-allowlist": ["*"],
        "permissions-nodes-config-file-enabled": True,
        "permissions-nodes-config-file": permissions,
        "permissions-accounts-config-file-enabled": True,
        "permissions-accounts-config-file": permissions,
    }
    comments = {
        "min-gas-price": "Free gas: with zeroBaseFee in the genesis, transactions priced 0 are accepted.",
        "bootnodes": "Every bootnode must also be in the nodes allowlist, or Besu refuses to start.",
        "host-allowlist": "The port is published on the host's loopback only (docker-compose.yml).",
    }
    return f"# {node.name} ({node.role}) of the LEC Besu network; written by `lec besu init`.\n" + toml.dumps(
        values, comments
    )


def permissions_config(enodes: list[str], accounts: list[str]) -> str:
    """`permissions_config.toml`: the nodes allowed to peer and the accounts allowed to send transactions."""
    return toml.dumps(
        {
            "nodes-allowlist": list(dict.fromkeys(enodes)),
            "accounts-allowlist": list(dict.fromkeys(accounts)),
        }
    )


def compose_service(node: Node, image: str) -> dict:
    return {
        "image": image,
        "container_name": f"{NETWORK_NAME}-{node.name}",
        # The key files are 0600 and owned by whoever ran `lec besu init`: run Besu as that user.
        "user": "${LEC_BESU_UID:-1000}:${LEC_BESU_GID:-1000}",
        "command": [f"--config-file={NODE_DIR}/config.toml"],
        "volumes": [f"./genesis.json:{GENESIS_PATH}:ro", f"./nodes/{node.name}:{NODE_DIR}"],
        "ports": [f"127.0.0.1:{node.host_rpc_port}:{RPC_PORT}"],
        "networks": {NETWORK_NAME: {"ipv4_address": node.ip}},
        "restart": "unless-stopped",
    }


def compose_file(network: Network) -> str:
    """`docker-compose.yml`: one service per node on a bridge network with the nodes' fixed addresses."""
    document = {
        "name": NETWORK_NAME,
        "services": {n.name: compose_service(n, network.image) for n in network.nodes},
        "networks": {NETWORK_NAME: {"name": NETWORK_NAME, "ipam": {"config": [{"subnet": network.subnet}]}}},
    }
    return "# Written by `lec besu init`. Start: docker compose up -d; stop: docker compose down.\n" + yaml.safe_dump(
        document, sort_keys=False
    )


def summary(network: Network) -> dict:
    """`network.json`: everything public about the network (no private key), read back by `lec besu join`."""
    return {
        "chainId": network.params.chain_id,
        "image": network.image,
        "subnet": network.subnet,
        "deployer": network.deployer,
        "accounts": network.allowed_accounts,
        "nodes": [
            {
                "name": n.name,
                "role": n.role,
                "address": n.key.address,
                "publicKey": n.key.public_key_hex,
                "ip": n.ip,
                "p2pPort": n.p2p_port,
                "rpcUrl": f"http://127.0.0.1:{n.host_rpc_port}",
                "enode": n.enode,
            }
            for n in network.nodes
        ],
    }


@dataclass(frozen=True)
class FileSpec:
    content: str
    secret: bool = False  # written with mode 0600


def render(network: Network, timestamp: int, deployer_key: NodeKey | None = None) -> dict[str, FileSpec]:
    """Every file of the network folder, keyed by path relative to it."""
    genesis = build_genesis(
        [v.key.address for v in network.validators],
        {network.deployer: network.params.deployer_balance_wei},
        network.params,
        timestamp,
    )
    files = {
        "genesis.json": FileSpec(json.dumps(genesis, indent=2) + "\n"),
        "docker-compose.yml": FileSpec(compose_file(network)),
        "network.json": FileSpec(json.dumps(summary(network), indent=2) + "\n"),
    }
    permissions = permissions_config([n.enode for n in network.nodes], network.allowed_accounts)
    bootnodes = [v.enode for v in network.validators]
    for node in network.nodes:
        base = f"nodes/{node.name}"
        files[f"{base}/key"] = FileSpec(node.key.private_key_file() + "\n", secret=True)
        files[f"{base}/key.pub"] = FileSpec(node.key.public_key_file() + "\n")
        files[f"{base}/address"] = FileSpec(node.key.address + "\n")
        files[f"{base}/config.toml"] = FileSpec(node_config(node, bootnodes))
        files[f"{base}/permissions_config.toml"] = FileSpec(permissions)
    if deployer_key is not None:
        files["deployer.key"] = FileSpec(deployer_key.private_key_file() + "\n", secret=True)
    return files
