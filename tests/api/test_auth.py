"""Logins, sessions, CSRF, rate limits, tokens, the audit log and `landfill users|tokens`."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api import tokens_cli, users_cli
from api.auth.models import ApiToken, User
from landfill.cli import main as landfill_main
from tests.api.conftest import PASSWORD, add_token, add_user, client_for, csrf_of, login

pytestmark = pytest.mark.integration


def _cookie(resp, name: str) -> dict[str, str | bool]:
    for header in resp.headers.get_list("set-cookie"):
        jar = SimpleCookie(header)
        if name in jar:
            morsel = jar[name]
            return {k: morsel[k] for k in ("httponly", "samesite", "secure", "path")}
    raise AssertionError(f"no {name} cookie set")


# ---- logins and sessions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "title", "button"),
    [
        ("ky", "Системага кирүү", "Кирүү"),
        ("ru", "Вход в систему", "Войти"),
        ("en", "Sign in", "Sign in"),
    ],
)
def test_login_page_in_three_languages_and_local_only(make_api, lang, title, button):
    api = make_api(as_admin=False)
    resp = api.get("/login", params={"lang": lang})
    assert resp.status_code == 200
    assert f'<html lang="{lang}">' in resp.text
    assert f"<h2>{title}</h2>" in resp.text
    assert f'<button type="submit">{button}</button>' in resp.text
    assert 'name="csrf_token"' in resp.text
    assert "https://" not in resp.text
    assert "http://" not in resp.text


def test_login_sets_a_secure_session_cookie_and_goes_where_asked(make_api, clock):
    api = make_api(clock=clock, as_admin=False)
    add_user(api.app, "aigul", "dispatcher", full_name="Aigul")
    resp = api.get("/dispatch", follow_redirects=False)
    assert (resp.status_code, resp.headers["location"]) == (303, "/login?next=%2Fdispatch")
    resp = login(api, "aigul", next="/dispatch")
    assert (resp.status_code, resp.headers["location"]) == (303, "/dispatch")
    assert _cookie(resp, "landfill_session") == {
        "httponly": True,
        "samesite": "lax",
        "secure": "",  # plain http in development; see the next test
        "path": "/",
    }
    page = api.get("/dispatch")
    assert page.status_code == 200
    assert "Aigul" in page.text
    assert api.get("/api/v1/auth/me").json() == {
        "kind": "user",
        "name": "aigul",
        "display": "Aigul",
        "role": "dispatcher",
        "client_code": None,
    }
    # only a path of this site is a place to go after login
    assert login(client_for(api.app), "aigul", next="//evil.example/x").headers["location"] == "/"


def test_session_cookie_is_secure_behind_tls(make_api):
    api = make_api(as_admin=False)
    add_user(api.app, "aigul", "dispatcher")
    # a request that came over https (uvicorn --proxy-headers behind a TLS proxy)
    tls = TestClient(api.app, base_url="https://landfill.example")
    cookie = _cookie(login(tls, "aigul"), "landfill_session")
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert tls.get("/api/v1/auth/me").status_code == 200


@pytest.mark.parametrize(
    ("env", "setting", "scheme", "secure"),
    [
        ("development", "auto", "http", False),
        ("development", "auto", "https", True),
        ("production", "auto", "http", True),  # TLS ends at a proxy that does not say so
        ("development", "always", "http", True),
        ("production", "never", "https", False),
    ],
)
def test_when_cookies_are_secure(env, setting, scheme, secure):
    from starlette.requests import Request

    from api.auth.sessions import secure_cookies
    from landfill.settings import ApiSettings

    settings = ApiSettings(
        env=env,
        cookie_secure=setting,
        influx_password="kX9-vQ2m-Lw7z-Rt4p",  # strong enough for production
        mqtt_url="mqtt://api:Jd8-wQ3n-Zp6x-Ty2c@127.0.0.1:1883",
    )
    scope = {"type": "http", "scheme": scheme, "server": ("h", 443), "path": "/", "headers": []}
    assert secure_cookies(Request(scope), settings) is secure


def test_wrong_password_unknown_user_and_disabled_account_are_refused_alike(make_api):
    api = make_api(as_admin=False)
    add_user(api.app, "aigul", "dispatcher")
    for username, password in (("aigul", "wrong password!"), ("nobody", PASSWORD)):
        client = client_for(api.app)
        client.headers["Accept-Language"] = "en"
        resp = login(client, username, password)
        assert resp.status_code == 401
        assert (
            '<p id="login-error" role="alert" class="error">Wrong username or password' in resp.text
        )
        assert f'value="{username}"' in resp.text  # the name stays, the password does not
    with api.app.state.sessions() as session:
        session.scalar(select(User).where(User.username == "aigul")).active = False
        session.commit()
    assert login(client_for(api.app), "aigul").status_code == 401


def test_logout_ends_the_session_even_for_a_copied_cookie(make_api):
    api = make_api(as_admin=False)
    add_user(api.app, "aigul", "dispatcher")
    login(api, "aigul")
    cookie = api.cookies.get("landfill_session")
    assert api.get("/api/v1/auth/me").status_code == 200
    # logout needs the session's CSRF token: a cross-site form cannot log anyone out
    assert api.post("/logout", data={}, follow_redirects=False).headers["location"] == "/"
    assert api.get("/api/v1/auth/me").status_code == 200
    token = csrf_of(api.get("/").text)
    resp = api.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert resp.headers["location"] == "/login?signed_out=true"
    assert api.get("/api/v1/auth/me").status_code == 401
    copy = client_for(api.app)
    copy.cookies.set("landfill_session", cookie)
    assert copy.get("/api/v1/auth/me").status_code == 401


def test_idle_timeout_and_longest_session(make_api, clock):
    api = make_api(clock=clock, as_admin=False, session_idle_minutes=30, session_max_hours=2)
    add_user(api.app, "aigul", "dispatcher")
    login(api, "aigul")
    start = clock.now
    for minutes in (29, 58, 87, 116):  # used every 29 minutes: never idle for 30
        clock.now = start + timedelta(minutes=minutes)
        assert api.get("/api/v1/auth/me").status_code == 200, minutes
    clock.now = start + timedelta(hours=2, minutes=1)  # but two hours is the most
    assert api.get("/api/v1/auth/me").status_code == 401
    login(api, "aigul")
    clock.now += timedelta(minutes=31)  # idle for 31 minutes
    assert api.get("/api/v1/auth/me").status_code == 401
    assert api.get("/dispatch", follow_redirects=False).status_code == 303


# ---- CSRF ----------------------------------------------------------------------------------


def test_session_requests_that_change_state_need_the_csrf_token(make_api, clock):
    api = make_api(clock=clock, as_admin=False)
    add_user(api.app, "sup", "supervisor")
    login(api, "sup")
    token = api.headers.pop("X-CSRF-Token")
    body = {"code": "bin-a", "empty_mm": 1450, "full_mm": 450}
    resp = api.post("/api/v1/containers", json=body)
    assert (resp.status_code, resp.json()["detail"]) == (
        403,
        "CSRF token missing or wrong; reload the page",
    )
    assert (
        api.post("/api/v1/containers", json=body, headers={"X-CSRF-Token": "x" * 43}).status_code
        == 403
    )
    # a cross-site form posting a CSV: the cookie alone does nothing
    files = {"file": ("c.csv", b"code,empty_mm,full_mm\nbin-x,1450,450\n", "text/csv")}
    assert api.post("/api/v1/containers/import", files=files).status_code == 403
    assert api.get("/api/v1/containers").json()["count"] == 0
    # reading needs no token; with it, the change goes through
    resp = api.post("/api/v1/containers", json=body, headers={"X-CSRF-Token": token})
    assert resp.status_code == 201, resp.text
    # machines send a Bearer token, which nothing sends on its own: no CSRF token needed
    machine = client_for(api.app, add_token(api.app, "supervisor"))
    assert machine.patch("/api/v1/containers/bin-a", json={"zone": "z"}).status_code == 200


def test_login_form_needs_its_csrf_token(make_api):
    api = make_api(as_admin=False)
    add_user(api.app, "aigul", "dispatcher")
    data = {"username": "aigul", "password": PASSWORD, "csrf_token": "forged"}
    assert api.post("/login", data=data, follow_redirects=False).status_code == 403
    api.get("/login")  # the cookie is set, but the form's field is another's
    assert api.post("/login", data=data, follow_redirects=False).status_code == 403
    assert "landfill_session" not in api.cookies


# ---- rate limits ---------------------------------------------------------------------------


def test_login_attempts_are_limited_per_user_and_per_address(make_api, clock):
    api = make_api(
        clock=clock,
        as_admin=False,
        login_max_failures_per_user=3,
        login_max_failures_per_address=5,
        login_window_seconds=600,
    )
    add_user(api.app, "aigul", "dispatcher")
    add_user(api.app, "bakyt", "dispatcher")
    here = client_for(api.app)
    there = TestClient(api.app, client=("10.0.0.9", 40000))
    for _ in range(3):
        assert login(here, "aigul", "wrong password!").status_code == 401
    # the right password no longer helps, from any address, until the window passes
    resp = login(there, "aigul")
    assert resp.status_code == 429
    assert int(resp.headers["retry-after"]) == 600
    there.headers["Accept-Language"] = "ru"
    assert (
        "Слишком много попыток входа. Попробуйте снова через 10 мин." in login(there, "aigul").text
    )
    assert login(here, "bakyt").status_code == 303  # another account is not locked
    for _ in range(2):
        assert login(here, "nobody", "wrong password!").status_code == 401
    # five failures from this address: nobody logs in from here, elsewhere bakyt still can
    assert login(client_for(api.app), "bakyt").status_code == 429
    assert login(TestClient(api.app, client=("10.0.0.10", 1)), "bakyt").status_code == 303
    clock.now += timedelta(seconds=601)
    assert login(client_for(api.app), "aigul").status_code == 303


def test_a_successful_login_clears_the_accounts_failures(make_api, clock):
    api = make_api(clock=clock, as_admin=False, login_max_failures_per_user=3)
    add_user(api.app, "aigul", "dispatcher")
    for _ in range(2):
        assert login(client_for(api.app), "aigul", "wrong password!").status_code == 401
    assert login(client_for(api.app), "aigul").status_code == 303
    for _ in range(2):
        assert login(client_for(api.app), "aigul", "wrong password!").status_code == 401
    assert login(client_for(api.app), "aigul").status_code == 303


# ---- tokens --------------------------------------------------------------------------------


def test_token_lifecycle(make_api, clock):
    admin = make_api(clock=clock)
    resp = admin.post("/api/v1/tokens", json={"name": "weighbridge-pc", "role": "operator"})
    assert resp.status_code == 201, resp.text
    created = resp.json()
    secret = created["token"]
    assert secret.startswith("lft_")
    assert len(secret) >= 40
    assert created["prefix"] == secret[:10]
    assert created["created_by"] == "token:test-admin"
    # stored as its SHA-256 only; listed without the secret
    with admin.app.state.sessions() as session:
        row = session.get(ApiToken, created["id"])
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in str([getattr(row, c.key) for c in ApiToken.__table__.columns])
    listed = {t["id"]: t for t in admin.get("/api/v1/tokens").json()}
    assert "token" not in listed[created["id"]]
    assert listed[created["id"]]["last_used_at"] is None

    machine = client_for(admin.app, secret)
    clock.now += timedelta(minutes=5)
    assert machine.get("/api/v1/captures").status_code == 200  # operator reads weights
    assert machine.get("/api/v1/dispatch/board").status_code == 403  # not the board
    assert machine.post("/api/v1/tokens", json={"name": "x", "role": "admin"}).status_code == 403
    used = {t["id"]: t for t in admin.get("/api/v1/tokens").json()}[created["id"]]
    assert used["last_used_at"] == clock.now.isoformat().replace("+00:00", "Z")

    resp = admin.delete(f"/api/v1/tokens/{created['id']}")
    assert resp.status_code == 200
    assert resp.json()["revoked_at"] is not None
    assert machine.get("/api/v1/captures").status_code == 401  # at once
    assert admin.delete(f"/api/v1/tokens/{created['id']}").status_code == 409
    assert admin.delete("/api/v1/tokens/424242").status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "acme-portal", "role": "client"}, 422),  # a client's token says whose
        ({"name": "x", "role": "operator", "client_code": "acme"}, 422),
        ({"name": "bad name", "role": "operator"}, 422),
        ({"name": "x", "role": "root"}, 422),
        ({"name": "acme-portal", "role": "client", "client_code": "acme"}, 201),
    ],
)
def test_token_scope_is_checked(make_api, body, status):
    admin = make_api()
    resp = admin.post("/api/v1/tokens", json=body)
    assert resp.status_code == status, resp.text
    if status == 201:
        me = client_for(admin.app, resp.json()["token"]).get("/api/v1/auth/me").json()
        assert (me["role"], me["client_code"]) == ("client", "acme")


# ---- audit log -----------------------------------------------------------------------------


def test_audit_log_records_who_what_when_before_and_after(make_api, clock):
    admin = make_api(clock=clock)
    add_user(admin.app, "sup", "supervisor", full_name="Saltanat")
    sup = client_for(admin.app)
    login(sup, "sup")
    body = {"code": "bin-a", "empty_mm": 1450, "full_mm": 450, "zone": "a"}
    assert sup.post("/api/v1/containers", json=body).status_code == 201
    clock.now += timedelta(minutes=1)
    assert sup.patch("/api/v1/containers/bin-a", json={"zone": "b"}).status_code == 200
    assert sup.delete("/api/v1/containers/bin-a").status_code == 200
    assert sup.post("/api/v1/containers", json=body).status_code == 409  # refused: no row
    csv = "code,empty_mm,full_mm,zone\nbin-a,1450,450,c\nbin-n,1400,400,n\n"
    resp = sup.post("/api/v1/containers/import", content=csv, headers={"Content-Type": "text/csv"})
    assert resp.status_code == 200, resp.text

    auditor = client_for(admin.app, add_token(admin.app, "auditor"))
    log = auditor.get("/api/v1/audit", params={"action": "container."}).json()["data"]
    assert [(e["action"], e["target"], e["actor"], e["role"]) for e in reversed(log)] == [
        ("container.create", "bin-a", "sup", "supervisor"),
        ("container.update", "bin-a", "sup", "supervisor"),
        ("container.deactivate", "bin-a", "sup", "supervisor"),
        ("container.import_update", "bin-a", "sup", "supervisor"),
        ("container.import_create", "bin-n", "sup", "supervisor"),
    ]
    create, update, deactivate = log[-1], log[-2], log[-3]
    assert create["before"] is None
    assert create["after"]["zone"] == "a"
    assert (update["before"]["zone"], update["after"]["zone"]) == ("a", "b")
    assert (deactivate["before"]["active"], deactivate["after"]["active"]) == (True, False)
    assert update["at"] == clock.now.isoformat().replace("+00:00", "Z")
    assert create["address"] == "testclient"
    logins = auditor.get("/api/v1/audit", params={"action": "auth.login"}).json()["data"]
    assert [(e["action"], e["actor"]) for e in logins] == [("auth.login", "sup")]
    # auditors read; they change nothing, not even the log
    assert auditor.post("/api/v1/containers", json=body | {"code": "z"}).status_code == 403
    assert auditor.delete("/api/v1/tokens/1").status_code == 403


def test_audit_filters(make_api, clock):
    admin = make_api(clock=clock)
    admin.post("/api/v1/scales", json={"site": "nowhere", "code": "s", "name": "S"})
    body = {"site": admin.get("/api/v1/sites").json()[0]["code"], "code": "main", "name": "Main"}
    assert admin.post("/api/v1/scales", json=body).status_code == 201
    data = admin.get("/api/v1/audit", params={"actor": "token:test-admin"}).json()["data"]
    assert [e["action"] for e in data] == ["scale.create"]
    assert data[0]["after"]["division_kg"] == 20
    since = (clock.now + timedelta(seconds=1)).isoformat()
    assert admin.get("/api/v1/audit", params={"since": since}).json()["count"] == 0
    assert admin.get("/api/v1/audit", params={"since": "2026-11-24T10:00"}).status_code == 422


# ---- home page -----------------------------------------------------------------------------

INFLOW = ["/inflow", "/reports/council"]  # landfill inflow and the council's report


@pytest.mark.parametrize(
    ("role", "pages"),
    [
        ("dispatcher", ["/dispatch", "/docs"]),
        ("auditor", ["/dispatch", "/api/v1/audit", "/api/v1/tokens", "/docs", "/billing", *INFLOW]),
        (
            "admin",
            [
                "/operator",
                "/dispatch",
                "/api/v1/audit",
                "/api/v1/tokens",
                "/admin/dead-letters",
                "/docs",
                "/billing",
                *INFLOW,
            ],
        ),
        ("operator", ["/operator", "/docs"]),
        ("client", ["/docs", "/portal"]),
        ("billing", ["/docs", "/billing", *INFLOW]),
        ("supervisor", ["/operator", "/dispatch", "/docs", *INFLOW]),
    ],
)
def test_home_lists_the_pages_of_the_role(make_api, role, pages):
    import re

    api = make_api(as_admin=False)
    add_user(api.app, "someone", role, client="acme" if role == "client" else None)
    login(api, "someone")
    home = api.get("/", params={"lang": "en"}).text
    assert re.findall(r'data-page="([^"]+)"', home) == pages
    assert f'data-role="{role}"' in home


# ---- command line --------------------------------------------------------------------------


def test_users_and_tokens_command_line(make_api, monkeypatch, capsys, tmp_path):
    api = make_api(as_admin=False)
    monkeypatch.setenv("LANDFILL_DATABASE_URL", f"sqlite:///{tmp_path}/api.sqlite")
    monkeypatch.setattr("sys.stdin", io.StringIO("first admin pw 1\n"))
    assert landfill_main(["users", "add", "Root", "--role", "admin", "--password-stdin"]) == 0
    assert "added root (admin)" in capsys.readouterr().out
    with api.app.state.sessions() as session:
        assert session.scalar(select(User.password_hash)).startswith("$argon2id$")
    assert login(client_for(api.app), "root", "first admin pw 1").status_code == 303

    assert (
        users_cli.main(["add", "acme", "--role", "client", "--client", "ACME-1", "--generate"]) == 0
    )
    generated = capsys.readouterr().out.split("password: ")[1].split()[0]
    assert login(client_for(api.app), "acme", generated).status_code == 303
    with pytest.raises(SystemExit, match="a client account needs a client code"):
        users_cli.main(["add", "acme2", "--role", "client", "--generate"])
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(SystemExit, match="at least 10 characters"):
        users_cli.main(["passwd", "root", "--password-stdin"])
    monkeypatch.setattr("sys.stdin", io.StringIO("second admin pw 2\n"))
    assert users_cli.main(["passwd", "root", "--password-stdin"]) == 0
    assert login(client_for(api.app), "root", "first admin pw 1").status_code == 401
    assert users_cli.main(["disable", "acme"]) == 0
    assert login(client_for(api.app), "acme", generated).status_code == 401
    capsys.readouterr()
    assert users_cli.main(["list"]) == 0
    listed = capsys.readouterr().out
    assert "root" in listed
    assert "ACME-1" in listed
    assert "False" in listed

    assert landfill_main(["tokens", "create", "bridge", "--role", "operator"]) == 0
    secret = capsys.readouterr().out.strip()
    assert client_for(api.app, secret).get("/api/v1/captures").status_code == 200
    assert tokens_cli.main(["revoke", "1"]) == 0
    assert client_for(api.app, secret).get("/api/v1/captures").status_code == 401
    actions = [
        (e["action"], e["actor"].split(":")[0])
        for e in client_for(api.app, add_token(api.app, "auditor"))
        .get("/api/v1/audit")
        .json()["data"]
        if not e["action"].startswith("auth.")
    ]
    assert actions == [
        ("token.revoke", "cli"),
        ("token.create", "cli"),
        ("user.disable", "cli"),
        ("user.password", "cli"),
        ("user.create", "cli"),
        ("user.create", "cli"),
    ]


@pytest.mark.parametrize("command", ["users", "tokens"])
def test_command_line_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        landfill_main([command, "--help"])
    assert done.value.code == 0
    assert f"usage: landfill {command}" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        landfill_main(["--help"])
    assert command in capsys.readouterr().out


def test_demo_login_only_outside_production(make_api, tmp_path, monkeypatch):
    from api.users_cli import demo_login
    from landfill.settings import ApiSettings

    api = make_api(as_admin=False)
    settings = ApiSettings(database_url=f"sqlite:///{tmp_path}/api.sqlite")
    first = demo_login(settings, tmp_path / "state")
    again = demo_login(settings, tmp_path / "state")
    assert (first.username, first.password) == (again.username, again.password)  # kept
    assert (tmp_path / "state" / "demo-login.txt").stat().st_mode & 0o077 == 0
    assert login(client_for(api.app), "demo", first.password).status_code == 303
    assert client_for(api.app, first.token).get("/api/v1/captures").status_code == 401  # revoked
    assert client_for(api.app, again.token).get("/api/v1/captures").status_code == 200
    production = ApiSettings(
        database_url=f"sqlite:///{tmp_path}/api.sqlite",
        env="production",
        influx_password="kX9-vQ2m-Lw7z-Rt4p",  # strong enough for production
        mqtt_url="mqtt://api:Jd8-wQ3n-Zp6x-Ty2c@127.0.0.1:1883",
    )
    with pytest.raises(ValueError, match="no demo login in production"):
        demo_login(production, tmp_path / "state")
