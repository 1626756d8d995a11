"""The oracle's proof tables: leaf salts, kept off chain, one per device and period.

A salt is what links a device's data leaf to its readings; deleting a member's salts (right to be
forgotten) leaves every on-chain root valid while making that member's past leaves unlinkable.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from lec.db.types import UtcDateTime, utcnow


class LeafSalt(SQLModel, table=True):
    __tablename__ = "leaf_salts"

    chain_community_id: int = Field(primary_key=True)  # the Registry's community id, as committed on chain
    period_id: int = Field(primary_key=True)
    device_id: str = Field(primary_key=True, max_length=64, index=True)  # the POD, as committed
    salt: str = Field(max_length=66)  # 0x-hex of 32 bytes
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
