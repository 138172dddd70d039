"""Containers, alert acknowledgements and emptying confirmations.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the container registry and the dispatcher's decision tables."""
    _container()
    _decisions()


def _container() -> None:
    op.create_table(
        "container",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("settlement", sa.String(200), nullable=False, server_default=""),
        sa.Column("zone", sa.String(64), nullable=False, server_default=""),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        sa.Column("volume_m3", sa.Float, nullable=False, server_default="1.1"),
        sa.Column("empty_mm", sa.Integer, nullable=False),
        sa.Column("full_mm", sa.Integer, nullable=False),
        sa.Column("full_pct", sa.Float, nullable=False, server_default="80"),
        sa.Column("clear_pct", sa.Float, nullable=False, server_default="70"),
        sa.Column("expected_interval_s", sa.Integer, nullable=False, server_default="3600"),
        sa.Column("collection_weekdays", sa.String(20), nullable=False, server_default=""),
        sa.Column("device", sa.String(64), nullable=True),
        sa.Column("model", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("site_id", "code", name="uq_container_site_code"),
    )
    # one active container per device; a retired container may keep its old binding
    op.create_index(
        "uq_container_device_active",
        "container",
        ["device"],
        unique=True,
        sqlite_where=sa.text("active = 1 AND device IS NOT NULL"),
        postgresql_where=sa.text("active AND device IS NOT NULL"),
    )


def _decisions() -> None:
    op.create_table(
        "alert_ack",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False),
        sa.Column("alert_id", sa.String(64), nullable=False),
        sa.Column("container", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
        # one acknowledgement per alert episode
        sa.UniqueConstraint("site_id", "container", "kind", "since", name="uq_alert_ack_episode"),
    )
    op.create_table(
        "emptying_decision",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("container", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
        sa.UniqueConstraint("site_id", "event_id", name="uq_emptying_decision_event"),
        sa.CheckConstraint("decision IN ('confirmed', 'rejected')", name="ck_emptying_decision"),
    )


def downgrade() -> None:
    """Drop the tables."""
    op.drop_table("emptying_decision")
    op.drop_table("alert_ack")
    op.drop_index("uq_container_device_active", table_name="container")
    op.drop_table("container")
