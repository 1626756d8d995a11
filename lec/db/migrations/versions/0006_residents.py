"""residents: ratings of settled deals (the social CV) and each member's monthly target

`market_rating` holds the 1–5 rating and comment one party of a settled deal leaves for the other (unique per
deal and rater); `member_target` the monthly goal a member sets on the "My energy" page (hundredths of an hour).

Revision ID: 0006_residents
Revises: 0005_living_lab
Create Date: 2026-11-30 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import lec.db.types

revision: str = "0006_residents"
down_revision: str | None = "0005_living_lab"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "market_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_community_id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("rater", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("ratee", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", lec.db.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_rating")),
        sa.UniqueConstraint(
            "chain_community_id", "deal_id", "rater", name=op.f("uq_market_rating_chain_community_id_deal_id_rater")
        ),
    )
    with op.batch_alter_table("market_rating", schema=None) as batch_op:
        for column in ("chain_community_id", "deal_id", "rater", "ratee"):
            batch_op.create_index(batch_op.f(f"ix_market_rating_{column}"), [column], unique=False)
    op.create_table(
        "member_target",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("monthly_centihours", sa.Integer(), nullable=False),
        sa.Column("updated_at", lec.db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_member_target_community_id_communities")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_member_target_user_id_users")),
        sa.PrimaryKeyConstraint("community_id", "user_id", name=op.f("pk_member_target")),
    )


def downgrade() -> None:
    op.drop_table("member_target")
    with op.batch_alter_table("market_rating", schema=None) as batch_op:
        for column in ("chain_community_id", "deal_id", "rater", "ratee"):
            batch_op.drop_index(batch_op.f(f"ix_market_rating_{column}"))
    op.drop_table("market_rating")
