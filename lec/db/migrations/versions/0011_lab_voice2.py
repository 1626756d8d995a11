"""living lab: messages to a cluster or one member, categories, scheduled newsletters (send_at / sent_at), e-mail
copies (lab_inbox.emailed_at) and each member's mail preferences; external voices (lab_feeds, lab_voices);
community objectives (lab_objectives)

docs/living-lab.md. Messages sent before this revision were delivered at once: their sent_at is their created_at.

Revision ID: 0011_lab_voice2
Revises: 0010_residents2
Create Date: 2026-11-30 14:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import lec.db.types

revision: str = "0011_lab_voice2"
down_revision: str | None = "0010_residents2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lab_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cluster_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recipient_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "category",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="announcements",
            )
        )
        batch_op.add_column(sa.Column("send_at", lec.db.types.UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("sent_at", lec.db.types.UtcDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_lab_messages_sent_at"), ["sent_at"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_lab_messages_cluster_id_clusters"), "clusters", ["cluster_id"], ["id"]
        )
        batch_op.create_foreign_key(batch_op.f("fk_lab_messages_recipient_id_users"), "users", ["recipient_id"], ["id"])
    op.execute("UPDATE lab_messages SET sent_at = created_at")
    op.execute("UPDATE lab_messages SET category = 'newsletter' WHERE kind = 'newsletter'")
    op.execute("UPDATE lab_messages SET category = 'project' WHERE kind <> 'newsletter' AND project_id IS NOT NULL")
    with op.batch_alter_table("lab_inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("emailed_at", lec.db.types.UtcDateTime(), nullable=True))
    op.create_table(
        "lab_mail_preferences",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("muted", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_lab_mail_preferences_community_id_communities")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_lab_mail_preferences_user_id_users")),
        sa.PrimaryKeyConstraint("community_id", "user_id", name=op.f("pk_lab_mail_preferences")),
    )
    with op.batch_alter_table("lab_mail_preferences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lab_mail_preferences_user_id"), ["user_id"], unique=False)

    op.create_table(
        "lab_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("keywords", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("fetched_at", lec.db.types.UtcDateTime(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("created_at", lec.db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_lab_feeds_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_feeds")),
    )
    with op.batch_alter_table("lab_feeds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lab_feeds_community_id"), ["community_id"], unique=False)
    op.create_table(
        "lab_voices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=True),
        sa.Column("guid", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("keywords", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("published_at", lec.db.types.UtcDateTime(), nullable=True),
        sa.Column("sentiment", sa.Float(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("created_at", lec.db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_lab_voices_community_id_communities")
        ),
        sa.ForeignKeyConstraint(["feed_id"], ["lab_feeds.id"], name=op.f("fk_lab_voices_feed_id_lab_feeds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_voices")),
        sa.UniqueConstraint("community_id", "guid", name=op.f("uq_lab_voices_community_id_guid")),
    )
    with op.batch_alter_table("lab_voices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lab_voices_community_id"), ["community_id"], unique=False)

    op.create_table(
        "lab_objectives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("target_pct", sa.Float(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        sa.Column("created_at", lec.db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_lab_objectives_community_id_communities")
        ),
        sa.ForeignKeyConstraint(["set_by"], ["users.id"], name=op.f("fk_lab_objectives_set_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_objectives")),
        sa.UniqueConstraint("community_id", "kind", "month", name=op.f("uq_lab_objectives_community_id_kind_month")),
    )
    with op.batch_alter_table("lab_objectives", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lab_objectives_community_id"), ["community_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lab_objectives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_objectives_community_id"))
    op.drop_table("lab_objectives")
    with op.batch_alter_table("lab_voices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_voices_community_id"))
    op.drop_table("lab_voices")
    with op.batch_alter_table("lab_feeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_feeds_community_id"))
    op.drop_table("lab_feeds")
    with op.batch_alter_table("lab_mail_preferences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_mail_preferences_user_id"))
    op.drop_table("lab_mail_preferences")
    with op.batch_alter_table("lab_inbox", schema=None) as batch_op:
        batch_op.drop_column("emailed_at")
    with op.batch_alter_table("lab_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_lab_messages_recipient_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_lab_messages_cluster_id_clusters"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_lab_messages_sent_at"))
        batch_op.drop_column("sent_at")
        batch_op.drop_column("send_at")
        batch_op.drop_column("category")
        batch_op.drop_column("recipient_id")
        batch_op.drop_column("cluster_id")
