"""The containers page, `/dispatch/containers`: the site's containers and a form to add or edit one.

The list is rendered here; the form sends JSON to `/api/v1/containers` (POST to add, PATCH to
change) and puts each of the API's 422 errors beside its field (`api/static/containers.js`).
The model is a choice of the models the sensor edge decodes (`landfill.sensor_models`).
Dispatchers, supervisors and admins change containers; an auditor sees the page without the form.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from api.auth import roles
from api.auth.access import PAGE_DISPATCH, Caller
from api.container_registry import fields_of
from api.db import Container
from api.deps import SessionDep, SettingsDep, SiteDep
from api.i18n import catalogue
from api.templating import page, page_language
from landfill.language import Language
from landfill.numbers import number
from landfill.sensor_models import SENSOR_MODELS, canonical_model
from landfill.texts import settlement_name

router = APIRouter(tags=["pages"])

# the form's fields, in order; every one is a field of the API's container
FORM_FIELDS = (
    "code",
    "settlement",
    "zone",
    "lat",
    "lon",
    "volume_m3",
    "empty_mm",
    "full_mm",
    "collection_weekdays",
    "device",
    "model",
    "active",
)


def _degrees(value: float, lang: Language) -> str:
    """A coordinate to 5 places (about a metre), without trailing zeros: ``41,118``."""
    return number(value, 5, lang).rstrip("0").rstrip(",.")


def _row(row: Container, lang: Language) -> dict[str, Any]:
    """One container as the list shows it, and as the form is filled from it (``form``)."""
    fields = fields_of(row).model_dump(by_alias=True, mode="json")
    form = {name: fields[name] for name in FORM_FIELDS}
    where = (
        f"{_degrees(row.lat, lang)}; {_degrees(row.lon, lang)}"  # "41,1, 72,6" would be ambiguous
        if row.lat is not None and row.lon is not None
        else ""
    )
    return {
        "code": row.code,
        "settlement": settlement_name(lang, row.settlement),  # the form keeps the registered one
        "zone": row.zone,
        "where": where,
        "volume": number(row.volume_m3, 2, lang),
        "depth": f"{row.empty_mm} / {row.full_mm}",
        "weekdays": [int(d) for d in row.collection_weekdays.split()],
        "device": row.device or "",
        "model": row.model or "",
        "model_known": row.model is None or canonical_model(row.model) is not None,
        "active": row.active,
        "form": json.dumps(form, ensure_ascii=False),
    }


@router.get("/dispatch/containers", response_class=HTMLResponse, include_in_schema=False)
def containers_page(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    site: SiteDep,
    caller: Annotated[Caller, Depends(PAGE_DISPATCH)],
) -> HTMLResponse:
    """The site's containers by code, and the form to add or change one."""
    lang = page_language(request, settings)
    texts = catalogue(lang)
    rows = session.scalars(
        select(Container).where(Container.site_id == site.id).order_by(Container.code)
    )
    models = [
        (m.name, f"{m.vendor} {m.name}: {texts.get(f'containers.model.{m.name}', m.description)}")
        for m in SENSOR_MODELS
    ]
    keys = [k for k in texts if k.startswith(("containers.", "weekday.", "error."))]
    return page(
        request,
        settings,
        "containers.html",
        caller=caller,
        containers=[_row(r, lang) for r in rows],
        models=models,
        known_models=", ".join(name for name, _ in models),
        # the texts the script needs, "<" escaped so no text closes the script element
        texts_json=json.dumps({k: texts[k] for k in keys}, ensure_ascii=False).replace(
            "<", "\\u003c"
        ),
        can_edit=caller.role in roles.REGISTER_CONTAINERS,
    )
