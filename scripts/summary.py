"""`ape run summary`: what the demo left running and what a user can do next."""

from __future__ import annotations

import click
from ape import accounts, project
from ape.cli import ConnectedProviderCommand

from lec.settings import get_settings
from scripts._lec.chain import require_deployments
from scripts._lec.values import UNIT


@click.command(cls=ConnectedProviderCommand)
def cli() -> None:
    """Print the platform's addresses, the demo members' balances and the next steps."""
    data = require_deployments()
    settings = get_settings()
    rpc = settings.rpc_url
    click.echo(f"\n=== LEC platform on chain {data['chainId']} ({rpc})")
    for name, address in data["contracts"].items():
        click.echo(f"  {name:<13}{address}")
    for community in data["communities"]:
        token = project.CommunityToken.at(community["token"])
        click.echo(f"\nCommunity {community['id']} '{community['name']}' ({token.symbol()})")
        click.echo(f"  token/treasury {community['token']}   marketplace {community.get('marketplace')}")
        click.echo(
            f"  members {token.memberCount()}, supply {token.totalSupply() / UNIT:,.2f} h, "
            f"treasury {token.treasuryBalance() / UNIT:,.2f} h, transfer fee {token.feeBps() / 100:.2f} %"
        )
        for index in range(1, 9):
            account = accounts.test_accounts[index]
            if token.isMember(account):
                click.echo(f"  member {account.address}  {token.balanceOf(account) / UNIT:>10,.4f} h")
    api = f"http://127.0.0.1:{settings.demo_api_port}"
    dapp = f"http://localhost:{settings.demo_dapp_port}"
    data_dir = settings.data_dir
    click.echo(
        f"""
Next:
  dApp                       {dapp}  (sign in as alice or bob (members), carla (community admin), oscar (oracle
                             admin), tina (token admin), audrey (auditor); passwords in {data_dir}/dev-identity.json)
  API and its OpenAPI docs   {api}/docs
  a member's KPIs            lec oracle kpi --community 1 --from <YYYY-MM-DD> --to <YYYY-MM-DD> --json
  a proof bundle + audit     lec oracle bundle --community 1 --period <YYYY-MM-DD> --member <ACCOUNT> --out b.json
                             lec verify b.json
  admin steps                ape run admin --help   (with --network {rpc})
  stop everything            make stop   (the chain's state is kept in {data_dir}/anvil)"""
    )
