"""Why billing refuses something: a code, an HTTP status and a message in ky, ru or en.

A `BillingRefusal` is a weighbridge `Refusal` (the same handler answers it, the same body:
``{"code", "detail", "values"}``) with codes of its own; the messages are ``refusal.<code>``
in `landfill/i18n/billing/<lang>.json`.
"""

from __future__ import annotations

from api.weighbridge.refusals import Refusal

__all__ = ["STATUS", "BillingRefusal"]

STATUS: dict[str, int] = {
    "client_unknown": 422,
    "waste_unknown": 422,
    "tariff_not_found": 404,
    "tariff_overlap": 409,
    "tariff_exists": 409,
    "tariff_in_use": 409,
    "month_not_started": 422,
    "unpriced": 409,
    "nothing_to_invoice": 409,
    "invoice_not_found": 404,
    "credit_of_credit": 409,
    "already_credited": 409,
    "credit_needs_reason": 422,
}


class BillingRefusal(Refusal):
    """Billing says no; ``code`` names why, ``values`` fill the message."""

    def __init__(self, code: str, **values: object) -> None:
        Exception.__init__(self, code)
        self.code = code
        self.status = STATUS[code]
        self.values = values
