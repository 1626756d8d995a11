"""residents2: the reasons members give when they dispute a deal

`market_dispute_reason` keeps, off chain, the words a side of a deal writes when disputing it (the chain only
records the dispute), with the deal id, the wallet and the person, for the community admin who resolves it.

Revision ID: 0010_residents2
Revises: 0009_lab_messages
Create Date: 2026-11-30 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import lec.db.types

revision: str = "0010_residents2"
down_revision: str | None = "0009_lab_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "market_dispute_reason",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_community_id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("wallet", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("created_at", lec.db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_market_dispute_reason_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_dispute_reason")),
        sa.UniqueConstraint(
            "chain_community_id",
            "deal_id",
            "wallet",
            name=op.f("uq_market_dispute_reason_chain_community_id_deal_id_wallet"),
        ),
    )
    with op.batch_alter_table("market_dispute_reason", schema=None) as batch_op:
        for column in ("chain_community_id", "deal_id", "wallet"):
            batch_op.create_index(batch_op.f(f"ix_market_dispute_reason_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("market_dispute_reason", schema=None) as batch_op:
        for column in ("chain_community_id", "deal_id", "wallet"):
            batch_op.drop_index(batch_op.f(f"ix_market_dispute_reason_{column}"))
    op.drop_table("market_dispute_reason")
