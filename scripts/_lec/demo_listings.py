"""The demo deals' off-chain listings, written into the oracle's database so the dApp can show their text.

Rows are matched to the chain by the description hash each deal carries, so the same seed run against a fresh
database (or a database that already has them) ends with exactly one listing per demo deal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from lec.db.models import Community
from lec.db.models.market import Listing, ListingCreate
from lec.db.session import get_engine, init_db
from lec.market.hashing import description_hash
from lec.market.listings import hours_to_centihours, validate
from lec.market.policy import Side


class DemoText(Protocol):
    """What a demo deal tells about its listing (scripts._lec.seed_market.DemoDeal)."""

    category: int
    side: str
    creator: int
    hours: str
    title: str
    description: str
    outcome: str


@dataclass(frozen=True)
class DealOnChain:
    id: int
    description_hash: str  # 0x-hex


def demo_listings(
    community_id: int,
    deals: Iterable[DealOnChain],
    demo: Iterable[DemoText],
    owners: Mapping[int, str],
    admin: str,
) -> list[Listing]:
    """One listing per on-chain deal whose hash is a demo deal's text; open deals stay listed, the others are
    closed (taken, done or paid) but keep their text for the deal's page. `owners` maps a demo creator's test
    account index to its address; community tasks belong to `admin`."""
    by_hash = {"0x" + description_hash(d.title, d.description).hex(): d for d in demo}
    rows = []
    for deal in deals:
        text = by_hash.get(deal.description_hash)
        if text is None:
            continue  # a deal someone made after the seed: not ours to describe
        data = ListingCreate(
            chain_community_id=community_id,
            category=text.category,
            side=Side[text.side.upper()],
            title=text.title,
            description=text.description,
            price_centihours=hours_to_centihours(text.hours),
            owner=admin if text.side == "task" else owners[text.creator],
        )
        validate(data)
        rows.append(
            Listing.model_validate(
                data,
                update={
                    "description_hash": deal.description_hash,
                    "deal_id": deal.id,
                    "active": text.outcome == "open",
                },
            )
        )
    return rows


def store_demo_listings(engine: Engine, community_id: int, name: str, rows: Iterable[Listing]) -> int:
    """Adds the rows whose deal has no listing yet, and the community's row the API looks listings up by
    (id = the Registry's id, as `lec oracle simulate` creates it); returns how many listings were added."""
    with Session(engine) as session:
        community = session.exec(select(Community).where(Community.chain_community_id == community_id)).first()
        named = session.exec(select(Community).where(Community.name == name)).first()
        if community is None and named is not None and named.chain_community_id is None:
            named.chain_community_id = community_id  # made off chain before the deployment: now it is on chain
            session.add(named)
        elif community is None:
            free_id = session.get(Community, community_id) is None
            session.add(Community(id=community_id if free_id else None, name=name, chain_community_id=community_id))
        known = set(
            session.exec(
                select(Listing.deal_id).where(
                    Listing.chain_community_id == community_id, col(Listing.deal_id).is_not(None)
                )
            ).all()
        )
        fresh = [r for r in rows if r.deal_id not in known]
        session.add_all(fresh)
        session.commit()
        return len(fresh)


def database(url: str | None = None) -> Engine:
    """The oracle's database (DATABASE_URL, else SQLite under LEC_DATA_DIR) with the listings table."""
    return init_db(get_engine(url))
