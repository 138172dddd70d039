"""What a request may ask of the API, and error answers that echo nothing back.

- Bodies: FastAPI's own limit (`max_body_size`) checks Content-Length before reading and counts
  every chunk of a streamed body, answering 413 as soon as it is over, without buffering the
  rest. The app allows `MAX_BODY_BYTES`; a route that takes a file sets its own.
- 422: FastAPI's default answer repeats each failing input, so a 200 MB body came back in the
  answer. `validation_error` names the field and the rule, never the input.
- Times: Python's datetime overflows at years 1 and 9999 when a zone is applied, InfluxDB only
  stores 1677..2262 and answers other times with its own error text. `Instant` and `Day` accept
  1970-01-01 up to 2100-01-01 (UTC) and answer anything else with a 422 that says so.
- InfluxDB down: `influx_unavailable` is a 503 with our text; InfluxDB's goes to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, AwareDatetime

log = logging.getLogger("landfill.api")

__all__ = [
    "EARLIEST",
    "LATEST",
    "CSV_BODY_BYTES",
    "MAX_BODY_BYTES",
    "MAX_CSV_BYTES",
    "Day",
    "Instant",
    "csv_upload",
    "influx_unavailable",
    "validation_error",
]

MAX_BODY_BYTES = 64 * 1024  # the largest JSON body the API takes is a container, about 1 kB
MAX_CSV_BYTES = 1_000_000  # an imported registry file
MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file
CSV_BODY_BYTES = MAX_CSV_BYTES + MULTIPART_SLACK  # an import route's max_body_size
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_RANGE = f"must be from {EARLIEST:%Y-%m-%d} to before {LATEST:%Y-%m-%d} (UTC)"
_MAX_ERRORS = 20
_MAX_TEXT = 200


def _instant_in_range(value: datetime) -> datetime:
    # comparing aware datetimes subtracts them, which cannot overflow where astimezone can
    if not EARLIEST <= value < LATEST:
        raise ValueError(_RANGE)
    return value


def _day_in_range(value: date) -> date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError(_RANGE)
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_instant_in_range)]
Day = Annotated[date, AfterValidator(_day_in_range)]


def _brief(error: Any) -> dict[str, Any]:
    """One validation error without its input: type, where (shortened), and the rule."""
    return {
        "type": error.get("type", "invalid"),
        "loc": [p if isinstance(p, int) else str(p)[:64] for p in error.get("loc", ())],
        "msg": str(error.get("msg", "invalid"))[:_MAX_TEXT],
    }


def brief_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Validation errors as a 422 answers them: type, loc and msg, never the input."""
    return [_brief(e) for e in errors[:_MAX_ERRORS]]


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 for a request that failed validation, never repeating what was sent."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = brief_errors(errors)
    return JSONResponse({"detail": detail}, status_code=422)


async def influx_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """Any route: a failed InfluxDB query is 503; InfluxDB's own text is logged, not answered."""
    log.warning("InfluxDB query failed: %s", str(exc)[:500])
    detail = "InfluxDB query failed: the database is not answering; try later"
    return JSONResponse({"detail": detail}, status_code=503)


async def csv_upload(request: Request) -> bytes:
    """The uploaded file (text/csv body or multipart field `file`), read on the event loop."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise HTTPException(422, "multipart upload needs a file field named file")
        raw = await upload.read(MAX_CSV_BYTES + 1)
    elif content_type.startswith(("text/csv", "text/plain", "application/csv")):
        raw = await request.body()
    else:
        raise HTTPException(415, "send text/csv or multipart/form-data")
    if len(raw) > MAX_CSV_BYTES:
        raise HTTPException(413, "file too large")
    return raw
