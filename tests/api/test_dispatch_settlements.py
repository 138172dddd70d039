"""Settlement names as each language spells them (landfill/i18n/settlements/, docs/settlements.md).

The registry keeps the registered name ("Bürgöndü"); a Kyrgyz reader sees "Бүргөндү", a Russian
one "Бургонду", an English one "Bürgöndü". Filters and forms keep the registered name; a name
without a catalogue entry is shown as it was registered.
"""

from __future__ import annotations

import json
import re

import pytest

from landfill.texts import settlement_name
from tests.api.seed import seed_scenario

pytestmark = pytest.mark.integration

# sched-1 is registered in "Bürgöndü", off-1 (an open offline alert) in "Tendik"
BURGONDU = {"ky": "Бүргөндү", "ru": "Бургонду", "en": "Bürgöndü"}
TENDIK = {"ky": "Теңдик", "ru": "Тендик", "en": "Tendik"}


@pytest.fixture
def api(make_api, clock, influx, site):
    client = make_api(clock=clock)
    seed_scenario(client, influx, site, clock.now)
    return client


def test_settlement_name_falls_back_to_the_registered_name():
    assert [settlement_name(lang, "Bürgöndü") for lang in BURGONDU] == list(BURGONDU.values())
    assert settlement_name("ru", "Kyzyl-Kyia") == "Кызыл-Кия"
    for name in ("Settlement 12", "Кок-Жар", ""):
        assert settlement_name("ky", name) == name


@pytest.mark.parametrize("lang", sorted(BURGONDU))
def test_the_board_names_settlements_in_the_asked_language(api, lang):
    board = api.get("/api/v1/dispatch/board", params={"lang": lang}).json()
    row = {c["container"]: c for c in board["data"]}["sched-1"]
    assert (row["settlement"], row["settlement_name"]) == ("Bürgöndü", BURGONDU[lang])
    pin = {p["container"]: p for p in board["map"]["pins"]}["sched-1"]
    assert (pin["settlement"], pin["settlement_name"]) == ("Bürgöndü", BURGONDU[lang])
    assert {"value": "Bürgöndü", "label": BURGONDU[lang]} in board["settlement_options"]
    assert "Bürgöndü" in board["settlements"]
    alerts = api.get("/api/v1/dispatch/alerts", params={"lang": lang}).json()["data"]
    off = next(a for a in alerts if a["container"] == "off-1")
    assert (off["settlement"], off["settlement_name"]) == ("Tendik", TENDIK[lang])


def test_the_language_comes_from_the_cookie_and_accept_language_too(api):
    api.cookies.set("lang", "ru")
    board = api.get("/api/v1/dispatch/board").json()
    api.cookies.delete("lang")
    assert {"value": "Bürgöndü", "label": "Бургонду"} in board["settlement_options"]
    board = api.get("/api/v1/dispatch/board", headers={"Accept-Language": "en"}).json()
    assert {"value": "Bürgöndü", "label": "Bürgöndü"} in board["settlement_options"]
    board = api.get("/api/v1/dispatch/board").json()  # the default: Kyrgyz
    assert {"value": "Bürgöndü", "label": "Бүргөндү"} in board["settlement_options"]


def test_the_filter_takes_the_registered_name_in_every_language(api):
    for lang in BURGONDU:
        params = {"lang": lang, "settlement": "Bürgöndü"}
        board = api.get("/api/v1/dispatch/board", params=params).json()
        assert [c["container"] for c in board["data"]] == ["sched-1"], lang
        assert board["data"][0]["settlement_name"] == BURGONDU[lang]
    shown = api.get("/api/v1/dispatch/board", params={"settlement": "Бүргөндү"}).json()
    assert shown["data"] == [], "the shown name is not the filter's value"


def test_a_name_without_an_entry_is_shown_as_registered(api):
    for code, name in (("x-1", "Settlement 12"), ("x-2", "Кок-Жар")):
        body = {"code": code, "settlement": name, "zone": "dostuk", "lat": 41.1, "lon": 72.6}
        resp = api.post("/api/v1/containers", json={**body, "empty_mm": 1450, "full_mm": 450})
        assert resp.status_code == 201, resp.text
    for lang in BURGONDU:
        board = api.get("/api/v1/dispatch/board", params={"lang": lang, "per_page": 500}).json()
        rows = {c["container"]: c["settlement_name"] for c in board["data"]}
        assert (rows["x-1"], rows["x-2"]) == ("Settlement 12", "Кок-Жар"), lang
        labels = {o["value"]: o["label"] for o in board["settlement_options"]}
        assert labels["Settlement 12"] == "Settlement 12"


def test_the_route_and_its_sheet_name_the_settlement_in_the_language(api):
    route = api.get("/api/v1/dispatch/route", params={"lang": "ru"}).json()
    stop = next(s for s in route["stops"] if s["container"] == "sched-1")  # due on Wednesday
    assert (stop["settlement"], stop["settlement_name"]) == ("Bürgöndü", "Бургонду")
    for lang in BURGONDU:
        page = api.get("/dispatch/route", params={"lang": lang}).text
        row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*sched-1(?:(?!</tr>).)*</tr>", page, re.S)
        assert row is not None, lang
        assert f"<td>{BURGONDU[lang]}</td>" in row.group(0), lang


def test_the_containers_list_shows_the_name_and_the_form_keeps_the_registered_one(api):
    page = api.get("/dispatch/containers", params={"lang": "ky"}).text
    row = re.search(r'<tr data-code="sched-1".*?</tr>', page, re.S)
    assert row is not None
    assert ">Бүргөндү <span" in row.group(0)
    form = re.search(r'data-form="([^"]*)"', row.group(0))
    assert form is not None
    assert json.loads(form.group(1).replace("&#34;", '"'))["settlement"] == "Bürgöndü"
