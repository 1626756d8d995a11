"""`ape run deploy`, `ape run seed` and `ape run admin` against anvil at chain id 1981 with free gas."""

from __future__ import annotations

import json
from decimal import Decimal

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector as selector
from sqlalchemy import delete
from sqlmodel import Session, select

from lec.db.models import Community
from lec.db.models.market import Listing
from lec.db.session import get_engine
from lec.market.policy import Side
from tests.support.anvil import rpc

UNIT = 10**18
MEMBER_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
SHOP = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"
STRANGER = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"  # anvil account 9, never a member
# Marketplace.Deal as the ABI returns it (provider … incentiveBps, profileWeightBps, rulesId, venue, price,
# descriptionHash)
DEAL = "(address,uint64,uint8,uint8,uint8,address,uint16,uint16,uint16,uint16,uint16,uint16,address,uint96,bytes32)"


def call(url: str, to: str, signature: str, types: list[str], args: list, out: list[str]):
    data = "0x" + (selector(signature) + encode(types, args)).hex()
    return decode(out, bytes.fromhex(rpc(url, "eth_call", {"to": to, "data": data}, "latest")[2:]))


def test_deploy_writes_the_deployments_file_and_is_idempotent(ape_run, anvil_url):
    ape_run("deploy")
    path = ape_run.deployments / "1981.json"
    data = json.loads(path.read_text())
    assert data["chainId"] == 1981
    assert set(data["contracts"]) == {"Registry", "Notary", "RewardModels"}
    for address in data["contracts"].values():
        assert rpc(anvil_url, "eth_getCode", address, "latest") != "0x"
    blocks = int(rpc(anvil_url, "eth_blockNumber"), 16)
    again = ape_run("deploy")
    assert "already deployed" in again.stdout
    assert int(rpc(anvil_url, "eth_blockNumber"), 16) == blocks


def test_every_transaction_is_free(ape_run, anvil_url):
    """On a network that charges nothing (Besu's min-gas-price=0), scripts must not pay ape's default tip."""
    latest = int(rpc(anvil_url, "eth_blockNumber"), 16)
    assert latest > 0
    for number in range(1, latest + 1):
        block = rpc(anvil_url, "eth_getBlockByNumber", hex(number), True)
        for tx in block["transactions"]:
            receipt = rpc(anvil_url, "eth_getTransactionReceipt", tx["hash"])
            assert int(receipt["effectiveGasPrice"], 16) == 0


def test_seed_creates_demo_community_with_welcome_bonus(ape_run, anvil_url):
    result = ape_run("seed")
    assert "Demo LEC" in result.stdout
    data = json.loads((ape_run.deployments / "1981.json").read_text())
    (community,) = data["communities"]
    assert community["id"] == 1 and community["treasury"] == community["token"]
    token = community["token"]
    (balance,) = call(anvil_url, token, "balanceOf(address)", ["address"], [MEMBER_1], ["uint256"])
    assert balance == 5 * UNIT
    (shop_balance,) = call(anvil_url, token, "balanceOf(address)", ["address"], [SHOP], ["uint256"])
    assert shop_balance == 20 * UNIT
    ape_run("seed")  # completes, never duplicates
    data = json.loads((ape_run.deployments / "1981.json").read_text())
    assert len(data["communities"]) == 1
    (balance,) = call(anvil_url, token, "balanceOf(address)", ["address"], [MEMBER_1], ["uint256"])
    assert balance == 5 * UNIT


def test_seed_writes_each_demo_deals_listing_once(ape_run, anvil_url):
    from scripts._lec.seed_market import DEMO_DEALS

    ape_run("seed")
    data = json.loads((ape_run.deployments / "1981.json").read_text())
    (community,) = data["communities"]
    engine = get_engine(f"sqlite:///{ape_run.data / 'lec.db'}")
    with Session(engine) as session:
        listings = session.exec(select(Listing).order_by(Listing.deal_id)).all()
        assert session.exec(select(Community.chain_community_id)).all() == [community["id"]]
    assert [row.deal_id for row in listings] == list(range(1, len(DEMO_DEALS) + 1))
    assert sorted({row.category for row in listings}) == list(range(8))
    for row, demo in zip(listings, DEMO_DEALS, strict=True):
        deal = call(anvil_url, community["marketplace"], "deal(uint256)", ["uint256"], [row.deal_id], [DEAL])[0]
        assert row.description_hash == "0x" + deal[-1].hex()  # the text hashes to what the chain holds
        assert (row.title, row.hours, row.active) == (demo.title, Decimal(demo.hours), demo.outcome == "open")
        assert row.price_units == deal[-2]
    tasks = {row.owner for row in listings if row.side == Side.TASK}
    assert tasks == {"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"}  # anvil account 0, the community admin

    with Session(engine) as session:  # a database that lost the listings gets them back from the chain's deals
        session.exec(delete(Listing).where(Listing.deal_id > 5))  # type: ignore[call-overload]
        session.commit()
    ape_run("seed")
    with Session(engine) as session:
        assert [r.deal_id for r in session.exec(select(Listing).order_by(Listing.deal_id)).all()] == list(
            range(1, len(DEMO_DEALS) + 1)
        )


def test_admin_commands_print_what_changed(ape_run, anvil_url):
    out = ape_run("admin", "fee-set", "1", "250").stdout
    assert "TransferFeeSet(previousBps=100, newBps=250)" in out
    out = ape_run("admin", "member-add", "1", STRANGER, "--kind", "citizen", "--profile", "prosumer").stdout
    assert "MemberAdded" in out
    out = ape_run("admin", "sell", "1", SHOP, "12.34", "--receipt", "INV-1").stdout
    assert "TokensSold" in out and "paidCents=1234" in out
    params = '{"max_per_period": 100, "c": 1, "b": 5, "a": 10}'
    out = ape_run("admin", "model-register", "lec-test", "self-consumption", params).stdout
    assert 'params={"a":10,"b":5,"c":1,"max_per_period":100}' in out


def test_admin_refusals_are_sentences(ape_run):
    result = ape_run("admin", "fee-set", "1", "2000", check=False)
    assert result.returncode != 0
    assert "above the hard cap" in result.stdout + result.stderr
    result = ape_run("admin", "member-add", "1", MEMBER_1, "--kind", "citizen", check=False)
    assert "already a member" in result.stdout + result.stderr
    result = ape_run("admin", "sell", "1", MEMBER_1, "10", "--receipt", "INV-2", check=False)
    assert "Only stakeholders may buy tokens" in result.stdout + result.stderr
    result = ape_run("admin", "member-add", "7", STRANGER, "--kind", "citizen", check=False)
    assert "no community 7" in result.stdout + result.stderr
