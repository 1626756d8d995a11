"""flexibility: the community's asking price shown to buyers with the offer

The table `flex_prices` of lec.db.models.flex (docs/flexibility.md). Flexibility rewards themselves need no table:
their leaves' salts are rows of `leaf_salts` (docs/proofs.md §8).

Revision ID: 0008_flex_rewards
Revises: 0007_onboarding
Create Date: 2026-11-30 13:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lec.db.types

revision: str = "0008_flex_rewards"
down_revision: str | None = "0007_onboarding"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flex_prices",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("price_cents_per_kwh", sa.Integer(), nullable=False),
        sa.Column("updated_at", lec.db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_flex_prices_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_flex_prices")),
    )


def downgrade() -> None:
    op.drop_table("flex_prices")
