"""Why the weighbridge refuses something: a code, an HTTP status and a translated message.

A refusal answers ``{"code": ..., "detail": <message in the request's language>, "values":
{...}}``; the message is ``refusal.<code>`` in landfill/i18n/*.json, so the console shows
the server's sentence as it is, in Kyrgyz, Russian or English.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from api.i18n import pick_language, translate
from landfill.language import Language

__all__ = ["STATUS", "Refusal", "refusal_response"]

# every code and its HTTP status: 409 the ledger's state forbids it, 403 the role, 422 the input
STATUS: dict[str, int] = {
    "capture_not_found": 422,
    "capture_too_old": 422,
    "capture_used": 409,
    "scale_unknown": 422,
    "weight_out_of_range": 422,
    "gross_out_of_range": 422,
    "net_out_of_range": 422,
    "tare_missing": 422,
    "tare_expired": 422,
    "client_unknown": 422,
    "client_on_hold": 409,
    "vehicle_unknown": 422,
    "vehicle_on_site": 409,
    "waste_unknown": 422,
    "waste_refused": 422,
    "weight_source": 422,
    "manual_needs_supervisor": 403,
    "manual_needs_reason": 422,
    "manual_off_division": 422,
    "ticket_not_found": 404,
    "ticket_not_open": 409,
    "ticket_voided": 409,
    "void_needs_supervisor": 403,
    "void_needs_reason": 422,
    "in_use": 409,
    "exists": 409,
    "not_found": 404,
}


class Refusal(Exception):
    """The weighbridge says no; ``code`` names why, ``values`` fill the message."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.status = STATUS[code]
        self.values = values

    def message(self, lang: Language) -> str:
        """The sentence a person reads."""
        return translate(lang, f"refusal.{self.code}", **self.values)


async def refusal_response(request: Request, exc: Exception) -> JSONResponse:
    """Any route: a refusal in the language of the request (query, cookie, Accept-Language)."""
    assert isinstance(exc, Refusal)
    lang = pick_language(
        request.query_params.get("lang"),
        request.cookies.get("lang"),
        request.headers.get("accept-language"),
        request.app.state.settings.default_language,
    )
    body = {"code": exc.code, "detail": exc.message(lang), "values": exc.values}
    return JSONResponse(body, status_code=exc.status)
