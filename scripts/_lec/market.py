"""Marketplace commands of `ape run admin`: deploy a community's marketplace, show the category policies, publish
and confirm community tasks, resolve disputes, set deadlines, the expiry rule and the energy-profile weights.

The category policy itself (fee, incentive, venue share) is the token admin's `ape run admin incentive-set`.
`scripts/admin.py` adds `COMMANDS` to its group; this module knows nothing of the script.
"""

from __future__ import annotations

from decimal import Decimal

import click
from ape import project
from ape.cli import ConnectedProviderCommand

from lec.market.hashing import description_hash
from lec.market.policy import CATEGORIES, category
from scripts._lec.chain import (
    community_entries,
    deployer,
    require_deployments,
    save_deployments,
    send,
    token_of,
    tx_kwargs,
)
from scripts._lec.values import ZERO, address, to_units

DAY = 86_400


def market_of(community_id: int):
    """The marketplace of a community, or a sentence saying how to get one."""
    data = require_deployments()
    registry = project.Registry.at(data["contracts"]["Registry"])
    if not 1 <= community_id <= registry.communityCount():
        raise click.ClickException(f"There is no community {community_id} on this chain.")
    marketplace = registry.community(community_id).marketplace
    if int(marketplace, 16) == 0:
        raise click.ClickException(
            f"Community {community_id} has no marketplace yet: run `ape run admin market-deploy {community_id}`."
        )
    return project.Marketplace.at(marketplace)


def _category_number(value: str) -> int:
    try:
        return category(int(value) if value.isdigit() else value).number
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.command(name="market-deploy", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
def market_deploy(community_id: int) -> None:
    """Deploy a community's marketplace and propose it in the Registry (platform admin); it is registered once the
    community's governor accepts it (`market-accept`), at once when this account is that governor too."""
    token = token_of(community_id)
    data = require_deployments()
    registry = project.Registry.at(data["contracts"]["Registry"])
    market = project.Marketplace.deploy(token.address, sender=deployer(), **tx_kwargs())
    send(registry.setMarketplace, community_id, market.address)
    if token.hasRole(token.DEFAULT_ADMIN_ROLE(), deployer().address):
        _accept(registry, data, community_id, market.address)
    else:
        click.echo(
            f"Marketplace {market.address} proposed for community {community_id}: its governor registers it with "
            f"`ape run admin market-accept {community_id} {market.address}`."
        )


@click.command(name="market-accept", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("marketplace")
def market_accept(community_id: int, marketplace: str) -> None:
    """Accept the marketplace the platform admin proposed (the community's governor): it may then pay from the
    treasury, and the previous one only pays out the escrow it holds. Check its code first (docs/security.md)."""
    data = require_deployments()
    registry = project.Registry.at(data["contracts"]["Registry"])
    _accept(registry, data, community_id, address(marketplace))


def _accept(registry, data: dict, community_id: int, marketplace: str) -> None:
    send(registry.acceptMarketplace, community_id, marketplace)
    data["communities"] = community_entries(registry)
    save_deployments(data)
    click.echo(f"Marketplace {marketplace} registered for community {community_id}.")


@click.command(name="market-categories", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
def market_categories(community_id: int) -> None:
    """Show the eight categories with their fee, incentive and venue share."""
    token = token_of(community_id)
    click.echo(f"{'#':<2} {'category':<26} {'fee %':>6} {'incentive %':>12} {'venue %':>8}  open")
    for c in CATEGORIES:
        p = token.categoryPolicy(c.number)
        click.echo(
            f"{c.number:<2} {c.slug:<26} {p.feeBps / 100:>6.2f} {p.incentiveBps / 100:>12.2f} "
            f"{p.venueBps / 100:>8.2f}  {'yes' if p.enabled else 'no'}"
        )


@click.command(name="task-publish", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("category_id", metavar="CATEGORY")
@click.argument("hours")
@click.option("--title", required=True)
@click.option("--description", required=True, help="Kept off chain; its hash goes on chain.")
@click.option("--to", "counterparty", default=ZERO, help="Reserve the task for one member.")
@click.option("--venue", default=ZERO, help="The stakeholder hosting it (category 7, citizen-community-venue).")
def task_publish(
    community_id: int, category_id: str, hours: str, title: str, description: str, counterparty: str, venue: str
) -> None:
    """Publish a community task (category 5, 6 or 7) funded now by the treasury."""
    number = _category_number(category_id)
    if not CATEGORIES[number].is_task:
        raise click.BadParameter("Community tasks are categories 5, 6 and 7; members post the others themselves.")
    market = market_of(community_id)
    digest = description_hash(title, description)
    price = to_units(hours)
    send(market.publishTask, number, price, digest, address(counterparty), address(venue))
    click.echo(f"Task {market.dealCount()} published; description hash 0x{digest.hex()}.")


@click.command(name="task-confirm", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("deal_id", type=int)
def task_confirm(community_id: int, deal_id: int) -> None:
    """Confirm a community task's work: the provider is paid, with the category's incentive."""
    send(market_of(community_id).confirm, deal_id)


@click.command(name="task-cancel", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("deal_id", type=int)
def task_cancel(community_id: int, deal_id: int) -> None:
    """Withdraw an open community task; its escrow returns to the treasury."""
    send(market_of(community_id).cancel, deal_id)


@click.command(name="dispute-resolve", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("deal_id", type=int)
@click.argument("provider_percent")
def dispute_resolve(community_id: int, deal_id: int, provider_percent: str) -> None:
    """Resolve a dispute: PROVIDER_PERCENT of the escrow to the provider (after fee and venue share), the rest
    refunded. 0 refunds everything, 100 pays everything."""
    bps = Decimal(provider_percent) * 100
    if not 0 <= bps <= 10_000 or bps != bps.to_integral_value():
        raise click.BadParameter("The provider's share is a percentage from 0 to 100 with at most two decimals.")
    send(market_of(community_id).resolve, deal_id, int(bps))


@click.command(name="market-windows", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.option("--completion-days", type=float, required=True, help="Time to complete an accepted deal.")
@click.option("--confirm-days", type=float, required=True, help="Time to confirm or dispute a completed deal.")
@click.option("--dispute-days", type=float, help="Time the community admin has to resolve a dispute.")
def market_windows(community_id: int, completion_days: float, confirm_days: float, dispute_days: float | None) -> None:
    """Set the deadlines after which anyone may close a stalled deal (1 hour to 1 year each), for deals created from
    now on; running deals keep theirs."""
    market = market_of(community_id)
    send(market.setWindows, int(completion_days * DAY), int(confirm_days * DAY))
    if dispute_days is not None:
        send(market.setDisputeWindow, int(dispute_days * DAY))


@click.command(name="market-expiry", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("rule", type=click.Choice(["settle", "refund"]))
def market_expiry(community_id: int, rule: str) -> None:
    """What happens to a completed deal nobody confirms in time: settle it (silence is consent) or refund it."""
    send(market_of(community_id).setExpiryRule, rule == "settle")


@click.command(name="market-profile-weights", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("consumer_bps", type=click.IntRange(0, 20_000))
@click.argument("prosumer_bps", type=click.IntRange(0, 20_000))
@click.argument("prostormer_bps", type=click.IntRange(0, 20_000))
def market_profile_weights(community_id: int, consumer_bps: int, prosumer_bps: int, prostormer_bps: int) -> None:
    """Weights (10 000 = 1×) of the treasury's incentive a citizen gets in stakeholder→citizen deals, by profile."""
    send(market_of(community_id).setProfileWeights, consumer_bps, prosumer_bps, prostormer_bps)


COMMANDS = [
    market_deploy,
    market_accept,
    market_categories,
    task_publish,
    task_confirm,
    task_cancel,
    dispute_resolve,
    market_windows,
    market_expiry,
    market_profile_weights,
]
