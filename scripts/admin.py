"""`ape run admin <command>`: the platform's, community's, token's and oracle's admin steps.

Every command prints what changed (transaction and event) and fails with a sentence when the chain refuses.
Amounts are given in tokens (hours of the time bank) and converted to 18-decimal units.

    ape run admin community-create "Borgo Solare" BSOL 0xAdmin --network http://127.0.0.1:8545
    ape run admin member-add 1 0xMember --kind citizen --profile prosumer
    ape run admin fee-set 1 100
"""

from __future__ import annotations

from decimal import Decimal

import click
from ape import project
from ape.cli import ConnectedProviderCommand
from eth_utils import keccak

from oracle.rewards.models import RewardModelError, validate_model
from scripts._lec.chain import community_entries, require_deployments, save_deployments, send, token_of
from scripts._lec.market import COMMANDS as MARKET_COMMANDS
from scripts._lec.values import UNIT, address, to_units

KINDS = {"citizen": 1, "stakeholder": 2}
PROFILES = {"consumer": 0, "prosumer": 1, "prostormer": 2}
ROLES = {
    "community-admin": "COMMUNITY_ADMIN_ROLE",
    "token-admin": "TOKEN_ADMIN_ROLE",
    "oracle-admin": "ORACLE_ADMIN_ROLE",
    "claim-relayer": "RELAYER_ROLE",
    "default-admin": "DEFAULT_ADMIN_ROLE",
}


# The marketplace's commands (deploy, categories, tasks, disputes, deadlines …) come from their own module.
@click.group(commands=MARKET_COMMANDS)
def cli() -> None:
    """Admin steps of the LEC platform (run with --network)."""


@cli.command(name="community-create", cls=ConnectedProviderCommand)
@click.argument("name")
@click.argument("symbol")
@click.argument("admin", type=address)
def community_create(name: str, symbol: str, admin: str) -> None:
    """Create a community with its token; ADMIN receives the community's roles (platform admin only)."""
    data = require_deployments()
    registry = project.Registry.at(data["contracts"]["Registry"])
    send(registry.createCommunity, name, symbol, admin)
    data["communities"] = community_entries(registry)
    save_deployments(data)
    click.echo(f"Community {registry.communityCount()} '{name}' added to the deployments file.")


@cli.command(name="member-add", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("account", type=address)
@click.option("--kind", type=click.Choice(list(KINDS)), required=True)
@click.option("--profile", type=click.Choice(list(PROFILES)), default="consumer", show_default=True)
def member_add(community_id: int, account: str, kind: str, profile: str) -> None:
    """Add a member; it receives the welcome bonus of its kind."""
    token = token_of(community_id)
    send(token.addMember, account, KINDS[kind], PROFILES[profile])


@cli.command(name="member-remove", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("account", type=address)
def member_remove(community_id: int, account: str) -> None:
    """Remove a member (right to be forgotten): the wallet is retired and its balance returns to the treasury."""
    send(token_of(community_id).removeMember, account)


@cli.command(name="role-grant", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("role", type=click.Choice(list(ROLES)))
@click.argument("account", type=address)
def role_grant(community_id: int, role: str, account: str) -> None:
    """Grant a community role."""
    token = token_of(community_id)
    send(token.grantRole, getattr(token, ROLES[role])(), account)


@cli.command(name="role-revoke", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("role", type=click.Choice(list(ROLES)))
@click.argument("account", type=address)
def role_revoke(community_id: int, role: str, account: str) -> None:
    """Revoke a community role."""
    token = token_of(community_id)
    send(token.revokeRole, getattr(token, ROLES[role])(), account)


@cli.command(name="fee-set", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("bps", type=click.IntRange(0, 65535))
def fee_set(community_id: int, bps: int) -> None:
    """Set the fee on member transfers, in basis points (100 = 1 %; the contract caps it at 1 000)."""
    send(token_of(community_id).setTransferFee, bps)


@cli.command(name="incentive-set", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("category", type=click.IntRange(0, 7))
@click.option("--fee-bps", type=click.IntRange(0, 65535), default=0, show_default=True)
@click.option("--incentive-bps", type=click.IntRange(0, 65535), default=0, show_default=True)
@click.option("--venue-bps", type=click.IntRange(0, 65535), default=0, show_default=True)
@click.option("--disable", is_flag=True, help="Close the category to new deals.")
def incentive_set(community_id: int, category: int, fee_bps: int, incentive_bps: int, venue_bps: int, disable: bool):
    """Set the fee, incentive and venue share of a marketplace category (0–7)."""
    send(token_of(community_id).setCategoryPolicy, category, fee_bps, incentive_bps, venue_bps, not disable)


@cli.command(name="bonus-set", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("tokens")
def bonus_set(community_id: int, kind: str, tokens: str) -> None:
    """Set the welcome bonus of a member kind, in tokens."""
    send(token_of(community_id).setWelcomeBonus, KINDS[kind], to_units(tokens))


@cli.command(name="incentive-budget", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("tokens")
def incentive_budget(community_id: int, tokens: str) -> None:
    """Set how much incentive above a deal's own fee a member may receive per 30 days, in tokens (0: incentives of
    members' deals only ever return the deal's fee)."""
    send(token_of(community_id).setIncentiveBudget, to_units(tokens))


@cli.command(name="treasury-fund", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("tokens")
@click.option("--reason", required=True, help="Why the tokens are issued (kept in the event).")
def treasury_fund(community_id: int, tokens: str, reason: str) -> None:
    """Issue new tokens to the community treasury."""
    send(token_of(community_id).fundTreasury, to_units(tokens), reason)


@cli.command(name="exchange-rate", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("euro_per_token")
def exchange_rate(community_id: int, euro_per_token: str) -> None:
    """Publish the price of one token in euro for stakeholder purchases (e.g. 10 = 1 token for 10 €)."""
    price = Decimal(euro_per_token)
    if price <= 0:
        raise click.BadParameter("The price must be positive.")
    units_per_cent = Decimal(UNIT) / (price * 100)
    if units_per_cent != units_per_cent.to_integral_value():
        raise click.BadParameter("That price does not give a whole number of token units per cent.")
    send(token_of(community_id).setExchangeRate, int(units_per_cent))


@cli.command(name="sell", cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
@click.argument("buyer", type=address)
@click.argument("paid_euro")
@click.option("--receipt", required=True, help="Identifier of the off-chain payment receipt (hashed on chain).")
def sell(community_id: int, buyer: str, paid_euro: str, receipt: str) -> None:
    """Sell tokens from the treasury to a stakeholder who paid PAID_EURO off chain."""
    cents = Decimal(paid_euro) * 100
    if cents <= 0 or cents != cents.to_integral_value():
        raise click.BadParameter("The amount paid must be positive, in euro with at most two decimals.")
    send(token_of(community_id).sellToStakeholder, buyer, int(cents), keccak(text=receipt))


@cli.command(cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
def pause(community_id: int) -> None:
    """Stop every transfer, sale and claim of a community."""
    send(token_of(community_id).pause)


@cli.command(cls=ConnectedProviderCommand)
@click.argument("community_id", type=int)
def unpause(community_id: int) -> None:
    """Resume transfers, sales and claims."""
    send(token_of(community_id).unpause)


@cli.command(name="model-register", cls=ConnectedProviderCommand)
@click.argument("name")
@click.argument("kind")
@click.argument("params_json")
def model_register(name: str, kind: str, params_json: str) -> None:
    """Register a reward-model version; PARAMS_JSON is stored in canonical form (sorted keys, no spaces)."""
    try:
        model = validate_model(name, kind, params_json)
    except RewardModelError as exc:
        raise click.BadParameter(str(exc)) from exc
    data = require_deployments()
    send(project.RewardModels.at(data["contracts"]["RewardModels"]).registerModel, name, kind, model.canonical_params)
