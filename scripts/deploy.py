"""`ape run deploy`: deploys the platform (Registry, RewardModels, Notary) and writes deployments/<chainId>.json.

Idempotent: when the deployments file of the connected chain points at live contracts, nothing is sent.
"""

from __future__ import annotations

from typing import Any

import click
from ape import chain, project
from ape.cli import ConnectedProviderCommand

from scripts._lec.chain import deployer, load_deployments, save_deployments, tx_kwargs


def deploy_platform(admin=None) -> dict[str, Any]:
    """Deploys the platform's contracts with `admin` as platform admin and returns the deployments data."""
    admin = admin or deployer()
    kw = tx_kwargs()
    start_block = chain.blocks.head.number
    registry = project.Registry.deploy(admin, sender=admin, **kw)
    models = project.RewardModels.deploy(admin, sender=admin, **kw)
    notary = project.Notary.deploy(registry.address, models.address, sender=admin, **kw)
    registry.setCore(notary.address, models.address, sender=admin, **kw)
    data = {
        "chainId": chain.chain_id,
        "deployedAtBlock": start_block,
        "contracts": {
            "Registry": registry.address,
            "Notary": notary.address,
            "RewardModels": models.address,
        },
        "communities": [],
    }
    return data


@click.command(cls=ConnectedProviderCommand)
def cli() -> None:
    """Deploy the platform contracts (skipped when already deployed on this chain)."""
    existing = load_deployments()
    if existing is not None:
        click.echo(f"Platform already deployed on chain {chain.chain_id}: Registry {existing['contracts']['Registry']}")
        return
    data = deploy_platform()
    path = save_deployments(data)
    click.echo(f"Deployed on chain {data['chainId']}:")
    for name, address in data["contracts"].items():
        click.echo(f"  {name:<13}{address}")
    click.echo(f"Wrote {path}")
