"""Marketplace listings: stored with the hash their deal carries on chain, searched and filtered, refused with a
sentence when the contract would refuse them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlmodel import Session, SQLModel, create_engine

from lec.db.models.market import ListingCreate
from lec.market.hashing import description_hash
from lec.market.listings import (
    ListingError,
    close_listing,
    create_listing,
    hours_to_centihours,
    link_deal,
    search_listings,
)
from lec.market.policy import CATEGORIES, Policy, Side, category, resolution, split

ALICE, SHOP = "0x" + "a1" * 20, "0x" + "5b" * 20


@pytest.fixture
def session(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'market.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def listing(**kw) -> ListingCreate:
    base = dict(
        chain_community_id=1,
        category=0,
        side=Side.OFFER,
        title="Math tutoring",
        description="Two hours of maths",
        price_centihours=200,
        owner=ALICE,
        availability="weekday evenings",
    )
    return ListingCreate(**{**base, **kw})


def test_listing_carries_the_on_chain_description_hash(session):
    stored = create_listing(session, listing())
    assert stored.id == 1 and stored.active and stored.deal_id is None
    assert stored.description_hash == "0x" + description_hash("Math tutoring", "Two hours of maths").hex()
    assert stored.hours == Decimal("2") and stored.price_units == 2 * 10**18
    assert link_deal(session, stored.id, 7).deal_id == 7


def test_search_and_filter(session):
    create_listing(session, listing())
    create_listing(
        session,
        listing(title="Drill to lend", description="Bosch drill, weekends", price_centihours=50, side=Side.REQUEST),
    )
    create_listing(
        session,
        listing(
            category=2, title="LED bulbs", description="New LED bulbs with cashback", price_centihours=150, owner=SHOP
        ),
    )
    create_listing(session, listing(chain_community_id=2, title="Maths elsewhere"))
    titles = lambda rows: sorted(r.title for r in rows)  # noqa: E731
    assert titles(search_listings(session, 1)) == ["Drill to lend", "LED bulbs", "Math tutoring"]
    assert titles(search_listings(session, 1, text="MATH")) == ["Math tutoring"]
    assert titles(search_listings(session, 1, text="led cashback")) == ["LED bulbs"]
    assert titles(search_listings(session, 1, category=2)) == ["LED bulbs"]
    assert titles(search_listings(session, 1, side=Side.REQUEST)) == ["Drill to lend"]
    assert titles(search_listings(session, 1, max_hours="1.5")) == ["Drill to lend", "LED bulbs"]
    assert titles(search_listings(session, 1, owner=SHOP.upper().replace("0X", "0x"))) == ["LED bulbs"]
    assert len(search_listings(session, 1, limit=2)) == 2
    close_listing(session, 1)
    assert titles(search_listings(session, 1, text="math")) == []
    assert titles(search_listings(session, 1, text="math", include_closed=True)) == ["Math tutoring"]


def test_refusals_are_sentences_and_store_nothing(session):
    with pytest.raises(ListingError, match="community tasks"):
        create_listing(session, listing(category=5))
    with pytest.raises(ListingError, match="community tasks"):
        create_listing(session, listing(category=0, side=Side.TASK))
    with pytest.raises(ValidationError, match="less than or equal to 7"):  # the API answers 422 with this
        listing(category=8)
    with pytest.raises(ValidationError, match="greater than 0"):
        listing(price_centihours=0)
    with pytest.raises(ListingError, match="title"):
        create_listing(session, listing(title="  "))
    with pytest.raises(ListingError, match="no listing 9"):
        link_deal(session, 9, 1)
    assert search_listings(session, 1, include_closed=True) == []


def test_hours_parse_exactly():
    assert hours_to_centihours("1.5") == 150 and hours_to_centihours(2) == 200
    for bad in ("0", "-1", "1.005", "one"):
        with pytest.raises(ListingError):
            hours_to_centihours(bad)


def test_categories_by_number_or_name():
    assert category("citizen-community-venue").number == 7 and category(3).slug == "stakeholder-stakeholder"
    assert [c.is_task for c in CATEGORIES] == [False] * 5 + [True] * 3
    with pytest.raises(ValueError, match="not a marketplace category"):
        category(8)


@given(
    amount=st.integers(0, 10**30),
    fee=st.integers(0, 1_000),
    venue=st.integers(0, 5_000),
    cashback=st.integers(0, 4_000),
    bps=st.integers(0, 10_000),
)
def test_split_never_pays_out_more_than_the_escrow(amount, fee, venue, cashback, bps):
    s = split(amount, Policy(fee, 0, venue), category_number=2, with_venue=True, cashback_bps=cashback)
    assert s.paid_out == amount and s.to_provider >= 0
    to_provider, refunded = resolution(amount, bps)
    assert to_provider + refunded == amount and refunded >= 0
