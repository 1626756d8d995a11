"""`lec besu …`: generate the Besu network folder, join a node, admit an account."""

from __future__ import annotations

import time
from pathlib import Path

import click
from eth_utils import is_address, to_checksum_address

from lec.besu.files import DEFAULT_DIR, read_permissions, read_summary, write_files
from lec.besu.genesis import ChainParams
from lec.besu.join import Change, plan_allow_account, plan_join
from lec.besu.keys import new_key
from lec.besu.layout import IMAGE, RPC_PORT, plan, render


def _address(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    if not is_address(value):
        raise click.BadParameter(
            f"{value!r} is not an Ethereum address (0x followed by 40 hex digits).", param_hint=what
        )
    return to_checksum_address(value)


def _apply(root: Path, change: Change, new_prefix: str | None = None) -> None:
    replace = frozenset(p for p in change.files if new_prefix is None or not p.startswith(new_prefix))
    try:
        write_files(root, change.files, replace=replace)
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Updated {root}. To apply the change to the running nodes:")
    for call in change.calls:
        click.echo(f"  # {call.node}\n  {call.curl()}")
    for service in change.restart:
        click.echo(f"  docker compose restart {service}   # serves no PERM API, reads its file on start")


@click.group(name="besu")
def besu() -> None:
    """Generate and extend the Hyperledger Besu QBFT network (besu-network/)."""


@besu.command()
@click.option("--validators", default=4, show_default=True, type=click.IntRange(1, 50), help="QBFT validators.")
@click.option("--out", type=click.Path(path_type=Path), default=DEFAULT_DIR, show_default=True)
@click.option(
    "--deployer",
    envvar="LEC_DEPLOYER_ADDRESS",
    help="Deployer/platform-admin address (env LEC_DEPLOYER_ADDRESS); without it a key is generated "
    "in OUT/deployer.key.",
)
@click.option("--account", "accounts", multiple=True, help="Another account allowed to send transactions.")
@click.option(
    "--rpc-port",
    default=RPC_PORT,
    show_default=True,
    type=click.IntRange(1, 65000),
    help="Host port of the RPC node; validator i gets RPC_PORT + i.",
)
@click.option("--block-period", default=2, show_default=True, type=click.IntRange(1), help="Seconds per block.")
@click.option(
    "--empty-block-period",
    default=60,
    show_default=True,
    type=click.IntRange(0),
    help="Seconds between blocks when no transaction waits (0: as the block period).",
)
@click.option("--image", default=IMAGE, show_default=True, help="Besu Docker image.")
def init(
    validators: int,
    out: Path,
    deployer: str | None,
    accounts: tuple[str, ...],
    rpc_port: int,
    block_period: int,
    empty_block_period: int,
    image: str,
) -> None:
    """Generate keys, genesis, node configs, allowlists and docker-compose.yml for a new network."""
    deployer = _address(deployer, "--deployer")
    extra = [a for a in (_address(a, "--account") for a in accounts) if a]
    deployer_key = None if deployer else new_key()
    deployer_address = deployer_key.address if deployer_key else str(deployer)
    try:
        params = ChainParams(
            block_period_seconds=block_period,
            empty_block_period_seconds=empty_block_period,
            request_timeout_seconds=max(4, 2 * block_period),
        )
        network = plan(
            [new_key() for _ in range(validators + 1)],
            deployer_address,
            extra,
            params,
            rpc_port,
            image,
        )
        files = render(network, int(time.time()), deployer_key)
        write_files(out, files)
    except (ValueError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Wrote a {validators}-validator QBFT network (chain id {params.chain_id}) to {out}")
    for node in network.nodes:
        click.echo(f"  {node.name:<11} {node.key.address}  http://127.0.0.1:{node.host_rpc_port}")
    click.echo(f"Deployer {network.deployer}" + (f" (key in {out / 'deployer.key'})" if deployer_key else ""))
    click.echo(
        f"Start: cd {out} && LEC_BESU_UID=$(id -u) LEC_BESU_GID=$(id -g) docker compose up -d\n"
        f"Then:  LEC_RPC_URL=http://127.0.0.1:{rpc_port} ape run deploy --network ethereum:besu:node"
    )


@besu.command()
@click.argument("name")
@click.option("--dir", "root", type=click.Path(path_type=Path), default=DEFAULT_DIR, show_default=True)
@click.option("--validator", is_flag=True, help="Also print the votes that make it a validator.")
def join(name: str, root: Path, validator: bool) -> None:
    """Prepare a new node NAME: key, config, compose override, and the allowlist changes that admit it."""
    try:
        summary = read_summary(root)
        permissions = {n["name"]: read_permissions(root, n["name"]) for n in summary["nodes"]}
        change = plan_join(summary, permissions, name, new_key(), validator)
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    _apply(root, change, new_prefix=f"nodes/{name}/")
    node = change.summary["nodes"][-1]
    click.echo(f"Node {name}: address {node['address']}\n  enode {node['enode']}")
    click.echo(f"Start it: cd {root} && docker compose -f docker-compose.yml -f docker-compose.{name}.yml up -d {name}")
    if validator:
        click.echo("It becomes a validator once more than half of the validators have voted (calls above).")


@besu.command(name="allow-account")
@click.argument("account")
@click.option("--dir", "root", type=click.Path(path_type=Path), default=DEFAULT_DIR, show_default=True)
def allow_account(account: str, root: Path) -> None:
    """Admit ACCOUNT as a transaction sender on every node."""
    try:
        summary = read_summary(root)
        permissions = {n["name"]: read_permissions(root, n["name"]) for n in summary["nodes"]}
        change = plan_allow_account(summary, permissions, account)
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    _apply(root, change)
