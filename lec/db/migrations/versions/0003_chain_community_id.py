"""chain_community_id: the Registry's id gets its own name in the listings and the leaf salts

`market_listing.community_id` and `leaf_salts.community_id` held the Registry's (on-chain) community id while
`community_id` means the database row (`communities.id`) everywhere else. Both columns are renamed to
`chain_community_id`, keeping their data; the listing's index follows the column's name. Written by hand:
autogenerate sees a rename as a dropped column and a new one, which would lose the rows' values.

Revision ID: 0003_chain_community_id
Revises: 0002_market_api_tables
Create Date: 2026-11-26 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003_chain_community_id"
down_revision: str | None = "0002_market_api_tables"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _rename("community_id", "chain_community_id")


def downgrade() -> None:
    _rename("chain_community_id", "community_id")


def _rename(old: str, new: str) -> None:
    # Two batches: inside one, SQLite's table copy would still know the column by its old name.
    with op.batch_alter_table("market_listing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f(f"ix_market_listing_{old}"))
        batch_op.alter_column(old, new_column_name=new)
    with op.batch_alter_table("market_listing", schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_market_listing_{new}"), [new], unique=False)
    with op.batch_alter_table("leaf_salts", schema=None) as batch_op:
        batch_op.alter_column(old, new_column_name=new)
