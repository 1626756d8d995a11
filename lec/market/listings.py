"""Off-chain listings of the marketplace (title, description, category, hours, availability) on the oracle's
SQLModel metadata, with search and filter. A listing's `description_hash` is what its deal stores on chain."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlmodel import Session, col, select

from lec.db.models.market import (
    Listing,
    ListingCreate,
)
from lec.market.hashing import description_hash
from lec.market.policy import CATEGORIES, Side


class ListingError(ValueError):
    """A listing that cannot be stored as given."""


def hours_to_centihours(hours: str | Decimal | int) -> int:
    """Hours as a person types them ("1.5") to whole centi-hours, refusing what would lose precision."""
    try:
        value = Decimal(str(hours))
    except InvalidOperation as exc:
        raise ListingError(f"{hours!r} is not a number of hours.") from exc
    centi = value * 100
    if value <= 0 or centi != centi.to_integral_value():
        raise ListingError(f"Hours must be positive with at most two decimals, not {hours!r}.")
    return int(centi)


# Control characters (NUL, escapes, DEL, the C1 range) and lone surrogates print as nothing and are refused by
# PostgreSQL (NUL) or by UTF-8 (surrogates); tab and newline stay, descriptions have lines. Everything else is kept
# verbatim: making text safe to show is the display's job (escaping), not the store's.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
TEXT_FIELDS = ("title", "description", "availability")


def clean_text(text: str) -> str:
    """`text` without control characters (but tab and newline) and lone surrogates, the rest as it was."""
    return _UNPRINTABLE.sub("", text)


def validate(data: ListingCreate) -> None:
    """Refuses listings the marketplace contract would refuse, with a sentence saying what to change (ranges of
    category and price are already checked by the model's field constraints)."""
    is_task = CATEGORIES[data.category].is_task
    if is_task != (data.side == Side.TASK):
        raise ListingError(
            "Categories 5, 6 and 7 are community tasks published by the community admin; "
            "members offer or request in categories 0 to 4."
        )
    if not data.title.strip():
        raise ListingError("A listing needs a title.")


def create_listing(session: Session, data: ListingCreate) -> Listing:
    """Stores a listing, its text cleaned (`clean_text`), with the hash of that text its on-chain deal will carry."""
    data = data.model_copy(update={name: clean_text(getattr(data, name)) for name in TEXT_FIELDS})
    validate(data)
    listing = Listing.model_validate(
        data, update={"description_hash": "0x" + description_hash(data.title, data.description).hex()}
    )
    session.add(listing)
    session.commit()
    session.refresh(listing)
    return listing


def link_deal(session: Session, listing_id: int, deal_id: int) -> Listing:
    """Records the on-chain deal created for a listing."""
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise ListingError(f"There is no listing {listing_id}.")
    listing.deal_id = deal_id
    session.add(listing)
    session.commit()
    session.refresh(listing)
    return listing


def close_listing(session: Session, listing_id: int) -> Listing:
    """Hides a listing from searches (the row is kept: a deal may point at it)."""
    listing = session.get(Listing, listing_id)
    if listing is None:
        raise ListingError(f"There is no listing {listing_id}.")
    listing.active = False
    session.add(listing)
    session.commit()
    session.refresh(listing)
    return listing


def search_listings(
    session: Session,
    chain_community_id: int,
    *,
    text: str | None = None,
    category: int | None = None,
    side: Side | None = None,
    max_hours: Decimal | str | None = None,
    owner: str | None = None,
    include_closed: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[Listing]:
    """Listings of a community, newest first, filtered by words in title or description (case-insensitive),
    category, side, price ceiling and owner."""
    query = select(Listing).where(Listing.chain_community_id == chain_community_id)
    if not include_closed:
        query = query.where(col(Listing.active).is_(True))
    if text:
        for word in text.split():
            pattern = f"%{word.lower()}%"
            query = query.where(
                sa.or_(sa.func.lower(Listing.title).like(pattern), sa.func.lower(Listing.description).like(pattern))
            )
    if category is not None:
        query = query.where(Listing.category == category)
    if side is not None:
        query = query.where(Listing.side == int(side))
    if max_hours is not None:
        query = query.where(Listing.price_centihours <= hours_to_centihours(max_hours))
    if owner is not None:
        query = query.where(sa.func.lower(Listing.owner) == owner.lower())
    query = query.order_by(col(Listing.created_at).desc(), col(Listing.id).desc()).offset(offset).limit(limit)
    return list(session.exec(query).all())


def forget_owners(session: Session, wallets: list[str]) -> int:
    """Right to be forgotten: deletes every listing posted by these wallets (their texts may hold personal data;
    the chain keeps only the description's hash, which means nothing without the text). Returns the count."""
    if not wallets:
        return 0
    lowered = [w.lower() for w in wallets]
    rows = session.exec(select(Listing).where(sa.func.lower(Listing.owner).in_(lowered))).all()
    for row in rows:
        session.delete(row)
    return len(rows)
