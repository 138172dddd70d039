"""`/docs` (Swagger UI) and `/redoc` served from the project's own copies of their assets.

FastAPI's default pages load Swagger UI and ReDoc from a CDN, so they are blank on a network
with no internet (a landfill office). These load `api/static/vendor/` (versions and licences
in its README) and nothing else: no fonts, no favicon from elsewhere.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
VENDOR = "/static/vendor"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
NO_ICON = "data:,"  # the browser asks for nothing
# Only this server: ReDoc's sidebar asks cdn.redoc.ly for its logo, which the browser then
# does not even try. Inline script and styles are how both pages start and style themselves.
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'"
)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI document, offline."""
    root = _root(request)
    page = get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{root}{VENDOR}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{VENDOR}/swagger-ui.css",
        swagger_favicon_url=NO_ICON,
        oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT}",
        # Swagger UI would send the document's URL to validator.swagger.io for a badge
        swagger_ui_parameters={"validatorUrl": None},
    )
    page.headers["Content-Security-Policy"] = POLICY
    return page


@router.get(OAUTH2_REDIRECT)
def swagger_ui_redirect() -> HTMLResponse:
    """The page Swagger UI's OAuth2 login returns to."""
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc for the OpenAPI document, offline."""
    root = _root(request)
    page = get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}{VENDOR}/redoc.standalone.js",
        redoc_favicon_url=NO_ICON,
        with_google_fonts=False,
    )
    page.headers["Content-Security-Policy"] = POLICY
    return page
