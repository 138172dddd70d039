"""Weighbridge ledger: clients, waste types, vehicles, tickets, weights, counters; scale limits.

Revision ID: 0004
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    """Create the registry and ledger tables; give scales a minimum and a certificate."""
    with op.batch_alter_table("scale") as batch:
        batch.add_column(sa.Column("min_kg", sa.Integer, nullable=False, server_default="400"))
        batch.add_column(
            sa.Column("certificate", sa.String(100), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("verified_on", sa.Date, nullable=True))
    _registry()
    _tickets()
    _weights()


def _registry() -> None:
    op.create_table(
        "client",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("inn", sa.String(14), nullable=False),
        sa.Column("contract_no", sa.String(64), nullable=False, server_default=""),
        sa.Column("address", sa.String(500), nullable=False, server_default=""),
        sa.Column("phone", sa.String(64), nullable=False, server_default=""),
        sa.Column("vat_payer", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        *_stamps(),
        sa.UniqueConstraint("site_id", "code", name="uq_client_site_code"),
        sa.CheckConstraint("status IN ('active', 'on_hold')", name="ck_client_status"),
    )
    op.create_table(
        "waste_type",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name_ky", sa.String(200), nullable=False),
        sa.Column("name_ru", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("accepted", sa.Boolean, nullable=False, server_default=sa.true()),
        *_stamps(),
        sa.UniqueConstraint("site_id", "code", name="uq_waste_type_site_code"),
    )
    op.create_table(
        "vehicle",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("client_id", sa.Integer, sa.ForeignKey("client.id"), nullable=True),
        sa.Column("tare_kg", sa.Integer, nullable=True),
        sa.Column("tare_set_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tare_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("volume_m3", sa.Float, nullable=True),
        sa.Column("waste_type_id", sa.Integer, sa.ForeignKey("waste_type.id"), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        *_stamps(),
        sa.UniqueConstraint("site_id", "plate", name="uq_vehicle_site_plate"),
    )


def _tickets() -> None:
    op.create_table(
        "ticket",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("year", sa.Integer, nullable=True),
        sa.Column("number", sa.Integer, nullable=True),
        sa.Column("vehicle_id", sa.Integer, sa.ForeignKey("vehicle.id"), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("client_id", sa.Integer, sa.ForeignKey("client.id"), nullable=True),
        sa.Column("client_code", sa.String(64), nullable=True),
        sa.Column("client_name", sa.String(300), nullable=False, server_default=""),
        sa.Column("client_inn", sa.String(14), nullable=False, server_default=""),
        sa.Column("waste_type_id", sa.Integer, sa.ForeignKey("waste_type.id"), nullable=True),
        sa.Column("waste_code", sa.String(64), nullable=True),
        sa.Column("zone", sa.String(64), nullable=False, server_default=""),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
        sa.Column("gross_kg", sa.Integer, nullable=True),
        sa.Column("tare_kg", sa.Integer, nullable=True),
        sa.Column("net_kg", sa.Integer, nullable=True),
        sa.Column("tare_source", sa.String(16), nullable=True),
        sa.Column("manual", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("scale_events", sa.Text, nullable=False, server_default="[]"),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by", sa.String(100), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_by", sa.String(100), nullable=True),
        sa.Column("void_reason", sa.String(500), nullable=True),
        sa.Column("prints", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_printed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        # gap-free numbers: never two tickets with one number (the counter hands them out)
        sa.UniqueConstraint("site_id", "year", "number", name="uq_ticket_number"),
        sa.CheckConstraint("status IN ('open', 'completed', 'voided')", name="ck_ticket_status"),
    )
    # one open ticket per vehicle: a truck is on site once
    op.create_index(
        "uq_ticket_vehicle_open",
        "ticket",
        ["vehicle_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index("ix_ticket_site_status", "ticket", ["site_id", "status"])
    op.create_table(
        "ticket_counter",
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False, server_default="0"),
    )


def _weights() -> None:
    op.create_table(
        "ticket_weight",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("ticket.id"), nullable=False),
        sa.Column("pass_no", sa.Integer, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        # each capture weighs one ticket once
        sa.Column("capture_id", sa.String(64), nullable=True, unique=True),
        sa.Column("scale_id", sa.Integer, sa.ForeignKey("scale.id"), nullable=True),
        sa.Column("scale_code", sa.String(64), nullable=False, server_default=""),
        sa.Column("weight_kg", sa.Integer, nullable=False),
        sa.Column("weighed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("division_kg", sa.Integer, nullable=True),
        sa.Column("stable_ms", sa.Integer, nullable=True),
        sa.Column("protocol", sa.String(64), nullable=False, server_default=""),
        sa.Column("raw", sa.Text, nullable=False, server_default=""),
        sa.Column("manual_reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("actor", sa.String(100), nullable=False, server_default=""),
        sa.Column("actor_role", sa.String(32), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("ticket_id", "pass_no", name="uq_ticket_weight_pass"),
        sa.CheckConstraint(
            "source IN ('capture', 'manual', 'stored_tare')", name="ck_ticket_weight_source"
        ),
    )


def downgrade() -> None:
    """Drop the ledger and registry tables and the scale columns."""
    op.drop_table("ticket_weight")
    op.drop_table("ticket_counter")
    op.drop_index("ix_ticket_site_status", table_name="ticket")
    op.drop_index("uq_ticket_vehicle_open", table_name="ticket")
    op.drop_table("ticket")
    op.drop_table("vehicle")
    op.drop_table("waste_type")
    op.drop_table("client")
    with op.batch_alter_table("scale") as batch:
        batch.drop_column("verified_on")
        batch.drop_column("certificate")
        batch.drop_column("min_kg")
