"""Billed revenue: what the enterprise invoiced legal entities, net of VAT and sales tax.

Revenue counts by the document's date (`issued_on`, the local date it was issued), not by the
month it bills: a month's figure never changes after the month is over. A credit note carries
negative amounts, so the sum of issued invoices and credit notes is invoices minus credit notes.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.billing.models import Invoice

__all__ = ["billed_revenue"]

ZERO = Decimal("0.00")


def billed_revenue(session: Session, site_id: int, start: date, end: date) -> Decimal:
    """Invoices minus credit notes issued in [start, end), net of VAT and sales tax, in som."""
    total = session.scalar(
        select(func.sum(Invoice.net)).where(
            Invoice.site_id == site_id, Invoice.issued_on >= start, Invoice.issued_on < end
        )
    )
    return ZERO if total is None else Decimal(total).quantize(ZERO)
