"""living lab: a consumption cluster's monthly target curve (lab_cluster_objectives)

docs/living-lab.md, "Community objectives".

Revision ID: 0012_lab_objectives2
Revises: 0011_lab_voice2
Create Date: 2026-11-30 16:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import lec.db.types

revision: str = "0012_lab_objectives2"
down_revision: str | None = "0011_lab_voice2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lab_cluster_objectives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("target_curve", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("created_at", lec.db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_lab_cluster_objectives_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["clusters.id"], name=op.f("fk_lab_cluster_objectives_cluster_id_clusters")
        ),
        sa.ForeignKeyConstraint(["set_by"], ["users.id"], name=op.f("fk_lab_cluster_objectives_set_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_cluster_objectives")),
        sa.UniqueConstraint("cluster_id", "month", name=op.f("uq_lab_cluster_objectives_cluster_id_month")),
    )
    with op.batch_alter_table("lab_cluster_objectives", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lab_cluster_objectives_community_id"), ["community_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lab_cluster_objectives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_cluster_objectives_community_id"))
    op.drop_table("lab_cluster_objectives")
