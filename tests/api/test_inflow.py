"""Landfill inflow and the council's report from seeded InfluxDB data, checked against the
scenario's own arithmetic (tests/api/inflow_seed.py): local days, weeks and months, tags,
voided tickets, capacity, CSV, injection attempts, the report's indicators and its PDF."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from tests.api.conftest import add_token
from tests.api.inflow_seed import (
    BISHKEK,
    TICKETS,
    Seeded,
    by_key,
    counted,
    seed_council,
    ticket_lines,
)

pytestmark = pytest.mark.integration

OCTOBER = {"start": "2026-10-01", "end": "2026-10-31"}


@pytest.fixture
def api(make_api, influx, site, clock):
    """The API at the clock's time, with the scenario's tickets and another site's."""
    client = make_api(clock)
    # another site's tickets, heavier, at the same times: nothing of them may show
    other = [line.replace(f"site={site}", f"site={site}x") for line in ticket_lines(site)]
    influx.write_lines(ticket_lines(site) + [o.replace("net_kg=", "net_kg=9") for o in other])
    return client


def _data(resp) -> list[dict]:
    assert resp.status_code == 200, resp.text
    return resp.json()["data"]


def test_tonnage_per_local_day_week_and_month(api):
    days = _data(api.get("/api/v1/inflow/tonnage", params=OCTOBER | {"step": "day"}))
    assert [d["start"] for d in days] == [f"2026-10-{n:02d}" for n in range(1, 32)]
    want = by_key(counted(date(2026, 10, 1), date(2026, 10, 31)), lambda s: s.day.isoformat())
    got = {d["start"]: (d["net_kg"], d["tickets"]) for d in days if d["tickets"]}
    assert got == want
    # the 00:30 ticket of 1 October (30 September in UTC) is October's; the voided one is not
    assert got["2026-10-01"] == (2_500, 1)
    assert "2026-10-19" not in got

    six_weeks = {"start": "2026-09-28", "end": "2026-11-08", "step": "week"}
    weeks = _data(api.get("/api/v1/inflow/tonnage", params=six_weeks))
    monday = lambda s: (s.day - timedelta(days=s.day.weekday())).isoformat()  # noqa: E731
    want = by_key(counted(date(2026, 9, 28), date(2026, 11, 8)), monday)
    assert [w["start"] for w in weeks] == [
        (date(2026, 9, 28) + timedelta(weeks=n)).isoformat() for n in range(6)
    ]
    assert {w["start"]: (w["net_kg"], w["tickets"]) for w in weeks if w["tickets"]} == want

    resp = api.get("/api/v1/inflow/tonnage", params={"start": "2026-05-01", "end": "2026-11-30"})
    months = resp.json()
    want = by_key(counted(), lambda s: s.day.replace(day=1).isoformat())
    assert {m["start"]: (m["net_kg"], m["tickets"]) for m in months["data"]} == want
    assert months["step"] == "month"
    assert months["timezone"] == "Asia/Bishkek"
    assert months["total"] == {
        "net_kg": sum(s.net_kg for s in counted()),
        "tickets": len(counted()),
    }


@pytest.mark.parametrize("by", ["waste_type", "zone", "client", "vehicle"])
def test_tonnage_by_each_tag(api, by):
    rows = _data(api.get("/api/v1/inflow/breakdown", params=OCTOBER | {"by": by}))
    want = by_key(counted(date(2026, 10, 1), date(2026, 10, 31)), lambda s: getattr(s, by) or "")
    assert {r["key"]: (r["net_kg"], r["tickets"]) for r in rows} == want
    assert [r["net_kg"] for r in rows] == sorted((r["net_kg"] for r in rows), reverse=True)
    assert round(sum(r["share_pct"] for r in rows)) == 100


def test_filters_narrow_every_table(api):
    params = OCTOBER | {"client": "acme", "step": "day"}
    days = _data(api.get("/api/v1/inflow/tonnage", params=params))
    acme = [s for s in counted(date(2026, 10, 1), date(2026, 10, 31)) if s.client == "acme"]
    assert sum(d["net_kg"] for d in days) == sum(s.net_kg for s in acme) == 6_900
    rows = _data(api.get("/api/v1/inflow/breakdown", params=params | {"by": "waste_type"}))
    assert [(r["key"], r["net_kg"]) for r in rows] == [("msw", 6_900)]
    both = params | {"waste_type": "construction"}
    assert sum(d["net_kg"] for d in _data(api.get("/api/v1/inflow/tonnage", params=both))) == 0


INJECTIONS = [
    "acme' OR site =~ /.*/ OR client = '",
    "' OR '1'='1",
    "acme\\' OR 1=1 --",
    'acme" OR "a"="a',
    "$site",
    "acme; DROP DATABASE x",
    "/.*/",
    "*",
    "acme' GROUP BY *; SELECT * FROM weighing WHERE '1'='1",
]


@pytest.mark.parametrize("tag", ["client", "vehicle", "waste_type", "zone"])
def test_injection_attempts_in_filters_return_nothing(api, tag):
    for value in INJECTIONS:
        params = {"start": "2026-01-01", "end": "2026-12-31", tag: value}
        for path in ("/api/v1/inflow/tonnage", "/api/v1/inflow/breakdown"):
            resp = api.get(path, params=params | {"step": "day"})
            data = _data(resp)
            assert sum(d["net_kg"] for d in data) == 0, (path, tag, value)
            assert sum(d["tickets"] for d in data) == 0, (path, tag, value)
    # the data is there: the plain value finds it
    plain = {"client": "acme", "vehicle": "01KG123ABC", "waste_type": "msw", "zone": "dostuk"}
    found = _data(api.get("/api/v1/inflow/breakdown", params=OCTOBER | {tag: plain[tag]}))
    assert sum(d["net_kg"] for d in found) > 0


@pytest.mark.parametrize(
    "params",
    [
        {"by": "client GROUP BY *"},
        {"by": "site"},
        {"step": "1d) tz('UTC"},
        {"start": "2026-01-01' OR '1'='1"},
        {"end": "2026-13-01"},
        {"start": "2026-10-31", "end": "2026-10-01"},
        {"start": "1960-01-01"},
        {"start": "2001-01-01", "end": "2026-01-01"},  # longer than ten years
        {"client": "x" * 101},
        {"format": "xml"},
    ],
)
def test_parameters_outside_their_rules_are_422(api, params):
    resp = api.get("/api/v1/inflow/breakdown", params=params)
    assert resp.status_code == 422, resp.text


def test_capacity_and_years_left(make_api, influx, site, clock):
    api = make_api(clock, airspace_m3=1_000, waste_density_t_m3=1.25, airspace_used_m3=100)
    influx.write_lines(ticket_lines(site))
    got = api.get("/api/v1/inflow/capacity").json()
    recorded = sum(s.net_kg for s in counted())
    first = min(s.ts for s in TICKETS)
    days = round((clock.now - first) / timedelta(days=1))
    assert days == 196  # 12 May to 24 November, 10:00 Bishkek both
    rate = recorded / 1000 * 365 / days
    remaining = 1_000 * 1.25 - 100 * 1.25 - recorded / 1000
    assert got["recorded_kg"] == recorded
    assert got["recorded_tickets"] == len(counted())
    assert got["capacity_t"] == pytest.approx(1_250)
    assert got["used_t"] == pytest.approx(125 + recorded / 1000)
    assert got["remaining_t"] == pytest.approx(remaining)
    assert got["rate_days"] == days
    assert got["rate_t_per_year"] == pytest.approx(rate)
    assert got["years_left"] == pytest.approx(remaining / rate)
    full_on = (clock.now + timedelta(days=365 * remaining / rate)).astimezone(BISHKEK).date()
    assert got["full_on"] == full_on.isoformat()


def test_capacity_without_tickets_has_no_rate(make_api, clock):
    got = make_api(clock).get("/api/v1/inflow/capacity").json()
    assert got["recorded_kg"] == 0
    assert got["rate_t_per_year"] is None
    assert got["years_left"] is None
    assert got["remaining_t"] == pytest.approx(368_000 * 0.8)  # the Dostuk defaults


def _csv(resp) -> list[dict[str, str]]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    assert resp.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))


def test_every_table_of_the_page_is_a_csv(api):
    page = api.get("/inflow", params=OCTOBER | {"step": "day", "lang": "en"})
    assert page.status_code == 200, page.text
    links = sorted(set(re.findall(r'href="(/api/v1/inflow/[^"]+format=csv[^"]*)"', page.text)))
    assert len(links) == 6  # the series, four tags, capacity
    october = counted(date(2026, 10, 1), date(2026, 10, 31))
    for link in links:
        rows = _csv(api.get(link.replace("&amp;", "&")))
        if "capacity" in link:
            figures = {r["figure"]: r["value"] for r in rows}
            assert int(figures["recorded_kg"]) == sum(s.net_kg for s in counted())
            continue
        assert sum(int(r["net_kg"]) for r in rows) == sum(s.net_kg for s in october), link
        assert sum(int(r["tickets"]) for r in rows) == len(october), link
    by_day = OCTOBER | {"step": "day", "format": "csv"}
    days = _csv(api.get("/api/v1/inflow/tonnage", params=by_day))
    assert days[0] == {"day": "2026-10-01", "net_kg": "2500", "net_t": "2.500", "tickets": "1"}


def test_a_formula_in_a_tag_value_is_text_in_the_csv(make_api, influx, site, clock):
    api = make_api(clock)
    evil = Seeded("2026-000099", "2026-10-02 10:00", 1_000, "=HYPERLINK(1)", "V", "msw", "z")
    influx.write_lines(ticket_lines(site, [evil]))
    by_client = OCTOBER | {"by": "client", "format": "csv"}
    rows = _csv(api.get("/api/v1/inflow/breakdown", params=by_client))
    assert rows[0]["client"] == "'=HYPERLINK(1)"


@pytest.fixture
def council(make_api, influx, site, clock):
    """The API with the council scenario: tickets, containers, emptyings, overfull readings."""
    client = make_api(clock)
    seed_council(client, influx, site)
    return client


def test_the_councils_indicators_for_october(council):
    got = council.get("/api/v1/reports/council").json()  # default: the month before November
    month, before = got["month"], got["previous"]
    assert month["month"] == "2026-10"
    assert before["month"] == "2026-09"
    october = counted(date(2026, 10, 1), date(2026, 10, 31))
    assert (month["net_kg"], month["tickets"]) == (sum(s.net_kg for s in october), 5) == (23_700, 5)
    legal = [s for s in october if s.client]
    assert (
        (month["legal_kg"], month["legal_tickets"])
        == (22_500, 4)
        == (
            sum(s.net_kg for s in legal),
            len(legal),
        )
    )
    assert (before["net_kg"], before["tickets"], before["legal_tickets"]) == (8_000, 1, 1)
    assert [(t["month"], t["net_kg"]) for t in got["trend"]] == [
        ("2026-05", 4_000),
        ("2026-06", 6_000),
        ("2026-07", 5_000),
        ("2026-08", 7_000),
        ("2026-09", 8_000),
        ("2026-10", 23_700),
    ]
    assert got["change_pct"] == pytest.approx(100 * (23_700 - 8_000) / 8_000)
    assert got["change_avg3_pct"] == pytest.approx(100 * (23_700 - 20_000 / 3) / (20_000 / 3))
    # billing's figure: invoices issued in the month less credit notes, net of taxes
    assert (month["revenue"], before["revenue"]) == ("3000.00", "500.00")
    # e1..e9 in October (e10 rejected); before full: e1, e3 and dos-2's five (e9: 95 >= 75)
    assert (month["collections"], month["before_full"]) == (9, 7)
    assert month["before_full_pct"] == pytest.approx(700 / 9)
    assert (before["collections"], before["before_full"]) == (1, 0)
    # nosh-1 ten hours; dos-1 one hour (two readings in it, one at 100 %, one flagged)
    assert (month["overflow_hours"], month["overflow_containers"]) == (11, 2)
    assert (before["overflow_hours"], before["overflow_containers"]) == (1, 1)
    settlements = {s["settlement"]: s for s in month["settlements"]}
    assert settlements["Dostuk"] == {
        "settlement": "Dostuk",
        "containers": 2,
        "scheduled": 9,  # four Mondays and five Thursdays
        "on_schedule": 7,  # 5 and 12 October, and every Thursday (1 October at 01:30)
        "other_days": 1,  # Tuesday 20 October
        "share_pct": pytest.approx(700 / 9),
    }
    assert settlements["Noshken"] | {"share_pct": 0} == {
        "settlement": "Noshken",
        "containers": 1,
        "scheduled": 4,
        "on_schedule": 1,  # 14 October was rejected
        "other_days": 0,
        "share_pct": 0,
    }
    assert (month["scheduled"], month["on_schedule"]) == (13, 8)
    september = {s["settlement"]: s["scheduled"] for s in before["settlements"]}
    assert september == {"Dostuk": 8, "Noshken": 5}


def test_a_running_month_counts_only_the_rounds_that_are_over(council):
    # Tuesday 24 November, 10:00: Monday the 23rd's round is over, Tuesday's is not yet
    november = council.get("/api/v1/reports/council", params={"month": "2026-11"}).json()
    scheduled = {s["settlement"]: s["scheduled"] for s in november["month"]["settlements"]}
    assert scheduled == {"Dostuk": 4 + 3, "Noshken": 3}


def _pdf_text(resp) -> str:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.content)).pages)
    return " ".join(text.replace("\u00a0", " ").replace("\u2009", " ").split())


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("ky", ("Айлык мониторинг отчёту", "октябрь 2026", "Көрсөткүч", "Бардыгы")),
        ("ru", ("Ежемесячный отчёт мониторинга", "октябрь 2026", "Показатель", "Итого")),
    ],
)
def test_the_pdf_has_the_totals(council, lang, words):
    text = _pdf_text(council.get("/api/v1/reports/council/pdf", params={"lang": lang}))
    for word in words:
        assert word in text, word
    # tonnage of October and September, tickets, collections, before full, overflow hours
    for figure in ("23,70", "8,00", "22,50", "77,8", "+196,3 %", "+255,5 %", "3 000,00", "500,00"):
        assert figure in text, figure
    # the settlements as Kyrgyz and Russian spell them (registered "Dostuk", "Noshken")
    assert "Достук 2 9 7 1 77,8" in text
    assert "Ношкен 1 4 1 0 25,0" in text
    assert f"{words[3]} 3 13 8 1 61,5" in text  # the total row
    for month, tonnes in (("май", "4,00"), ("июнь", "6,00"), ("сентябрь", "8,00")):
        assert f"{month} 2026 {tonnes}" in text


def test_the_print_page_and_the_csv_tables(council):
    page = council.get("/reports/council", params={"month": "2026-10", "lang": "ru"})
    assert page.status_code == 200, page.text
    tonnage = '<td>Принято отходов на полигоне, т</td><td class="num">23,70</td>'
    assert f'data-indicator="tonnage">{tonnage}' in page.text
    assert page.text.count('<rect class="bar"') == 6
    assert "/api/v1/reports/council/pdf?month=2026-10&amp;lang=ky" in page.text
    table = {"format": "csv", "table": "settlements"}
    rows = _csv(council.get("/api/v1/reports/council", params=table))
    assert [(r["settlement"], r["scheduled"], r["on_schedule"]) for r in rows] == [
        ("Dostuk", "9", "7"),
        ("Noshken", "4", "1"),
    ]
    trend = _csv(council.get("/api/v1/reports/council", params={"format": "csv", "table": "trend"}))
    assert trend[-1] == {"month": "2026-10", "net_kg": "23700", "net_t": "23.700", "tickets": "5"}
    indicators = _csv(council.get("/api/v1/reports/council", params={"format": "csv"}))
    assert {r["indicator"]: r["2026-10"] for r in indicators}["overflow_hours"] == "11"


@pytest.mark.parametrize("month", ["2026-13", "26-10", "2026-10' OR '1'='1", "1960-01"])
def test_a_bad_month_is_422(council, month):
    assert council.get("/api/v1/reports/council", params={"month": month}).status_code == 422


def test_the_login_is_checked_before_anything_is_queried(make_api, clock):
    api = make_api(clock, as_admin=False)
    for path in ("/inflow?start=nonsense", "/reports/council?month=2026-13"):
        resp = api.get(path, follow_redirects=False)
        assert resp.status_code == 303, path
        assert resp.headers["location"].startswith("/login?next=")
    api.headers["Authorization"] = f"Bearer {add_token(api.app, 'dispatcher')}"
    assert api.get("/inflow?start=nonsense").status_code == 403
    assert api.get("/api/v1/inflow/tonnage?start=nonsense").status_code == 403
