"""Billing: tariffs, invoices and credit notes, their lines, the invoice counter; client groups.

Issued invoices are immutable at the database level: triggers refuse every UPDATE and DELETE
of `invoice` and `invoice_line` rows (an invoice row exists only once issued).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)
RATE = sa.Numeric(5, 2)
IMMUTABLE = ("invoice", "invoice_line")
REFUSAL = "issued invoices are immutable; issue a credit note"


def upgrade() -> None:
    """Create the billing tables and the triggers that keep issued invoices unchanged."""
    with op.batch_alter_table("client") as batch:
        batch.add_column(
            sa.Column("tariff_group", sa.String(64), nullable=False, server_default="")
        )
    _tariffs()
    _invoices()
    _lines()
    op.create_table(
        "invoice_counter",
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False, server_default="0"),
    )
    _triggers()


def _tariffs() -> None:
    op.create_table(
        "tariff",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("waste_type_id", sa.Integer, sa.ForeignKey("waste_type.id"), nullable=True),
        sa.Column("client_id", sa.Integer, sa.ForeignKey("client.id"), nullable=True),
        sa.Column("client_group", sa.String(64), nullable=True),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("min_charge", MONEY, nullable=False, server_default="0"),
        sa.Column("vat", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("site_id", "code", name="uq_tariff_site_code"),
        sa.CheckConstraint("unit IN ('t', 'm3', 'load')", name="ck_tariff_unit"),
        sa.CheckConstraint("price >= 0 AND min_charge >= 0", name="ck_tariff_money"),
        sa.CheckConstraint(
            "client_id IS NULL OR client_group IS NULL", name="ck_tariff_client_or_group"
        ),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="ck_tariff_dates"),
    )


def _invoices() -> None:
    op.create_table(
        "invoice",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("site.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("client_id", sa.Integer, sa.ForeignKey("client.id"), nullable=False),
        sa.Column("client_code", sa.String(64), nullable=False),
        sa.Column("client_name", sa.String(300), nullable=False),
        sa.Column("client_inn", sa.String(14), nullable=False),
        sa.Column("client_address", sa.String(500), nullable=False, server_default=""),
        sa.Column("client_contract", sa.String(64), nullable=False, server_default=""),
        sa.Column("client_vat_payer", sa.Boolean, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(100), nullable=False),
        sa.Column("credits_invoice_id", sa.Integer, sa.ForeignKey("invoice.id"), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("vat_rate", RATE, nullable=False),
        sa.Column("sales_tax_rate", RATE, nullable=False),
        sa.Column("net", MONEY, nullable=False),
        sa.Column("vat", MONEY, nullable=False),
        sa.Column("sales_tax", MONEY, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        # gap-free numbers: never two documents with one number (the counter hands them out)
        sa.UniqueConstraint("site_id", "year", "number", name="uq_invoice_number"),
        # one credit note cancels one invoice, once
        sa.UniqueConstraint("credits_invoice_id", name="uq_invoice_credits"),
        sa.CheckConstraint("kind IN ('invoice', 'credit_note')", name="ck_invoice_kind"),
        sa.CheckConstraint(
            "(kind = 'credit_note') = (credits_invoice_id IS NOT NULL)",
            name="ck_invoice_credit_target",
        ),
    )
    op.create_index("ix_invoice_site_issued", "invoice", ["site_id", "issued_on"])
    op.create_index("ix_invoice_client_period", "invoice", ["client_id", "period_start"])


def _lines() -> None:
    op.create_table(
        "invoice_line",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoice.id"), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("ticket.id"), nullable=False),
        sa.Column("ticket_number", sa.String(32), nullable=False),
        sa.Column("weighed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("waste_code", sa.String(64), nullable=False),
        sa.Column("waste_name_ky", sa.String(200), nullable=False),
        sa.Column("waste_name_ru", sa.String(200), nullable=False),
        sa.Column("waste_name_en", sa.String(200), nullable=False),
        sa.Column("net_kg", sa.Integer, nullable=False),
        sa.Column("tariff_id", sa.Integer, sa.ForeignKey("tariff.id"), nullable=True),
        sa.Column("unit", sa.String(8), nullable=False),
        sa.Column("quantity", sa.Numeric(14, 3), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("minimum", sa.Boolean, nullable=False),
        sa.Column("net", MONEY, nullable=False),
        sa.Column("vat_rate", RATE, nullable=False),
        sa.Column("vat", MONEY, nullable=False),
        sa.Column("sales_tax", MONEY, nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.UniqueConstraint("invoice_id", "line_no", name="uq_invoice_line_no"),
    )
    op.create_index("ix_invoice_line_ticket", "invoice_line", ["ticket_id"])
    # a month's tickets of the site (invoice run) and of one client (statement)
    op.create_index("ix_ticket_site_completed", "ticket", ["site_id", "completed_at"])
    op.create_index("ix_ticket_client_completed", "ticket", ["client_id", "completed_at"])


def _triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION refuse_invoice_change() RETURNS trigger AS $$ BEGIN "
            f"RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'integrity_constraint_violation'; "
            "END $$ LANGUAGE plpgsql"
        )
        for table in IMMUTABLE:
            op.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_invoice_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION refuse_invoice_change()"
            )
        return
    for table in IMMUTABLE:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )


def downgrade() -> None:
    """Drop the billing tables (and with them their triggers) and the client group."""
    op.drop_index("ix_ticket_client_completed", table_name="ticket")
    op.drop_index("ix_ticket_site_completed", table_name="ticket")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE invoice_line, invoice CASCADE")
        op.execute("DROP FUNCTION refuse_invoice_change()")
    else:
        op.drop_table("invoice_line")
        op.drop_table("invoice")
    op.drop_table("invoice_counter")
    op.drop_table("tariff")
    with op.batch_alter_table("client") as batch:
        batch.drop_column("tariff_group")
