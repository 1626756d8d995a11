"""End to end in Chromium: a member accepts a marketplace offer (approving the escrow first) and, once the
provider has completed it, confirms it with the settlement shown before signing — checked on chain."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect
from test_dapp_browser_wallet import WAIT, connect_on_lec_network, open_page, sign_in, token

from lec.chain.contracts import abi, bytecode

pytestmark = pytest.mark.services

UNIT = 10**18
SETTLED = 5


def deploy_marketplace(demo_chain):
    """The platform admin (anvil account 0) deploys the community's marketplace and registers it (account 0 is also
    the demo community's governor, which accepts it)."""
    w3, admin = demo_chain.w3, demo_chain.account(0)
    factory = w3.eth.contract(abi=abi("Marketplace"), bytecode=bytecode("Marketplace"))
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor(demo_chain.community["token"]).transact({"from": admin})
    )
    registry = w3.eth.contract(address=demo_chain.deployments["contracts"]["Registry"], abi=abi("Registry"))
    # Proposed by the platform admin, accepted by the community's governor: the same account in the demo.
    for step in (registry.functions.setMarketplace, registry.functions.acceptMarketplace):
        tx = step(demo_chain.community["id"], receipt["contractAddress"]).transact({"from": admin})
        assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    return w3.eth.contract(address=receipt["contractAddress"], abi=abi("Marketplace"))


def test_member_accepts_and_confirms_a_deal(dapp_url, demo_chain, demo_stack, wallet_page):
    w3 = demo_chain.w3
    market = deploy_marketplace(demo_chain)
    dlec = token(demo_chain)
    symbol = dlec.functions.symbol().call()
    alice, marco = demo_chain.account(1), demo_chain.account(2)
    price = 2 * UNIT
    offer = market.functions.offer(0, price, b"\x11" * 32, alice, "0x" + "00" * 20, 0).transact({"from": marco})
    assert w3.eth.wait_for_transaction_receipt(offer)["status"] == 1
    deal_id = market.functions.dealCount().call()

    page = wallet_page(1)
    sign_in(page, dapp_url, "alice")
    open_page(page, "Wallet")
    connect_on_lec_network(page)
    before = {a: dlec.functions.balanceOf(a).call() for a in (alice, marco, dlec.address)}

    page.get_by_role("button", name="1 · Approve the escrow in MetaMask").click()
    expect(page.get_by_role("button", name=f"Accept deal #{deal_id} in MetaMask")).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name=f"Accept deal #{deal_id} in MetaMask").click()
    expect(page.get_by_text(f"Acceptance of deal #{deal_id} confirmed in block")).to_be_visible(timeout=WAIT)
    assert dlec.functions.balanceOf(alice).call() == before[alice] - price  # in escrow now

    # The provider marks it done; Alice comes back to the page and confirms.
    tx = market.functions.complete(deal_id).transact({"from": marco})
    assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    open_page(page, "My energy")
    open_page(page, "Wallet")
    split = market.functions.previewSettlement(deal_id).call()[0]
    shown = f"Confirming pays {Decimal(split[0]) / UNIT:f} {symbol} to the provider"
    expect(page.get_by_text(shown)).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name=f"Confirm deal #{deal_id} in MetaMask").click()
    expect(page.get_by_text(f"Settlement of deal #{deal_id} confirmed in block")).to_be_visible(timeout=WAIT)
    assert market.functions.deal(deal_id).call()[3] == SETTLED
    assert dlec.functions.balanceOf(marco).call() == before[marco] + split[0]
    assert dlec.functions.balanceOf(dlec.address).call() >= before[dlec.address] + split[1]
    assert split[0] + split[1] + split[2] + split[3] == price
