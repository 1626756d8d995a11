"""`lec verify BUNDLE`: the auditor's take-out procedure from the command line, check by check."""

from __future__ import annotations

import json
from pathlib import Path

import click
from web3 import Web3

from lec.settings import rpc_url
from oracle.audit.poll import is_poll_bundle, verify_poll_bundle
from oracle.audit.verify import Check, verify_bundle


@click.command(name="verify")
@click.argument("bundle_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rpc", "rpc", default=None, help="JSON-RPC endpoint (default LEC_RPC_URL).")
def verify_command(bundle_file: Path, rpc: str | None) -> None:
    """Verify a member's proof bundle, or a poll bundle (docs/living-lab.md), against the chain."""
    try:
        bundle = json.loads(bundle_file.read_text())
    except json.JSONDecodeError as exc:
        raise click.ClickException(
            f"{bundle_file} is not JSON ({exc}): pass the file `lec oracle bundle` wrote."
        ) from exc
    w3 = Web3(Web3.HTTPProvider(rpc or rpc_url()))

    def show(check: Check) -> None:
        click.echo(f"{'ok  ' if check.ok else 'FAIL'} {check.name:<15} {check.detail}")

    try:
        checks = verify_poll_bundle(bundle, w3, show) if is_poll_bundle(bundle) else verify_bundle(bundle, w3, show)
    except OSError as exc:
        raise click.ClickException(f"Cannot reach the chain node ({exc}): check --rpc or LEC_RPC_URL.") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise click.ClickException(f"The bundle is incomplete or malformed ({exc!r}): re-export it.") from exc
    failed = [c for c in checks if not c.ok]
    if failed:
        raise click.ClickException(f"Verification failed at check '{failed[0].name}': {failed[0].detail}.")
    if is_poll_bundle(bundle):
        click.echo("All checks hold: the poll's tally and ballots match what is notarised on chain.")
        return
    click.echo("All checks hold: the member's data and reward match what is notarised on chain.")
