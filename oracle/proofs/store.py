"""Leaf salts, kept off chain: one per device and period, written before anything is published.

A salt is what links a device's data leaf to its readings; deleting a member's salts (right to be
forgotten) leaves every on-chain root valid while making that member's past leaves unlinkable.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, select

from lec.db.models.proofs import LeafSalt
from lec.db.types import utcnow
from oracle.proofs.encoding import new_salt


def ensure_salts(session: Session, chain_community_id: int, period: int, device_ids: Iterable[str]) -> dict[str, bytes]:
    """The salts of these devices for the period, creating (and committing) fresh ones where missing.

    Committing here, before any tree is built, is what makes a crashed run reproduce the same roots.
    """
    wanted_set = set(device_ids)  # looked up once per stored row: a set, not the sorted list (N² at 10⁵ devices)
    wanted = sorted(wanted_set)
    rows = session.exec(
        select(LeafSalt).where(LeafSalt.chain_community_id == chain_community_id, LeafSalt.period_id == period)
    ).all()
    salts = {row.device_id: bytes.fromhex(row.salt[2:]) for row in rows if row.device_id in wanted_set}
    fresh = {d: new_salt() for d in wanted if d not in salts}
    if fresh:
        now = utcnow()
        new_rows = [
            {
                "chain_community_id": chain_community_id,
                "period_id": period,
                "device_id": d,
                "salt": "0x" + salt.hex(),
                "created_at": now,
            }
            for d, salt in fresh.items()
        ]
        session.execute(sa.insert(LeafSalt), new_rows)  # one statement: a large community has 10 000s of devices
        session.commit()
        salts.update(fresh)
    return salts


def get_salts(session: Session, chain_community_id: int, period: int) -> dict[str, bytes]:
    rows = session.exec(
        select(LeafSalt).where(LeafSalt.chain_community_id == chain_community_id, LeafSalt.period_id == period)
    ).all()
    return {row.device_id: bytes.fromhex(row.salt[2:]) for row in rows}


def forget_devices(session: Session, device_ids: Iterable[str]) -> int:
    """Erase every salt of these devices (right to be forgotten); returns how many were deleted.

    A device with several energy flows commits one leaf per flow, keyed ``<pod>#<quantity>``: those go too.
    """
    ids = list(device_ids)
    if not ids:
        return 0
    column: sa.ColumnClause[str] = sa.column("device_id")
    matches = [column.in_(ids)] + [column.startswith(f"{pod}#", autoescape=True) for pod in ids]
    result = session.exec(sa.delete(LeafSalt).where(sa.or_(*matches)))  # type: ignore[call-overload]
    session.commit()
    return int(result.rowcount or 0)
