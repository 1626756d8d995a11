"""The demo listings without a chain: matched to deals by hash, stored once, tied to the community's row."""

from __future__ import annotations

from sqlmodel import Session, select

from lec.db.models import Community
from lec.db.models.market import Listing
from lec.market.hashing import description_hash
from scripts._lec.demo_listings import DealOnChain, database, demo_listings, store_demo_listings
from scripts._lec.seed_market import DEMO_DEALS

ADMIN = "0x" + "aa" * 20
OWNERS = {i: f"0x{i:040x}" for i in range(1, 9)}


def _hash(i: int) -> str:
    return "0x" + description_hash(DEMO_DEALS[i].title, DEMO_DEALS[i].description).hex()


def test_only_deals_with_a_demo_text_get_a_listing() -> None:
    deals = [DealOnChain(3, _hash(0)), DealOnChain(4, "0x" + "00" * 32), DealOnChain(9, _hash(7))]
    first, task = demo_listings(1, deals, DEMO_DEALS, OWNERS, ADMIN)
    assert (first.deal_id, first.title, first.owner, first.active) == (3, "Math tutoring", OWNERS[2], False)
    assert (task.deal_id, task.owner, task.category, task.active) == (9, ADMIN, 5, False)
    assert task.description_hash == _hash(7)
    (still_open,) = demo_listings(1, [DealOnChain(2, _hash(1))], DEMO_DEALS, OWNERS, ADMIN)
    assert still_open.active and still_open.price_centihours == 50


def test_stored_once_and_the_community_found_by_name_gets_its_chain_id(tmp_path) -> None:
    engine = database(f"sqlite:///{tmp_path / 'demo.db'}")
    with Session(engine) as session:
        session.add(Community(name="Demo LEC"))  # created off chain before the deployment
        session.commit()
    deals = [DealOnChain(i + 1, _hash(i)) for i in range(len(DEMO_DEALS))]
    assert store_demo_listings(engine, 4, "Demo LEC", demo_listings(4, deals, DEMO_DEALS, OWNERS, ADMIN)) == 10
    assert store_demo_listings(engine, 4, "Demo LEC", demo_listings(4, deals, DEMO_DEALS, OWNERS, ADMIN)) == 0
    with Session(engine) as session:
        assert [(c.name, c.chain_community_id) for c in session.exec(select(Community)).all()] == [("Demo LEC", 4)]
        assert len(session.exec(select(Listing).where(Listing.chain_community_id == 4)).all()) == 10
