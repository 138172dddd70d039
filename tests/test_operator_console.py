"""The operator console in real Chromium, on the real processes, at the scale house's pace.

`landfill simulate scale --scenario typed` plays the platform on a pty (the test types what
drives on), `landfill edge scale` reads it, mosquitto carries it, `landfill ingest` stores it
in influxd and `landfill api` serves the page. A loaded truck drives on, the operator weighs
it in with F2, the truck leaves and comes back empty, the operator weighs it out with F3, and
the ticket printed with F8 says the right net weight in Kyrgyz; the ticket is a `weighing`
point in InfluxDB. Then the broker and the API go away for a moment: the page says so, keeps
the form, and works again when they are back. A refusal shows its Kyrgyz sentence.

Screenshots go to the test's folder; with UPDATE_DOCS_IMAGES=1 also to docs/img/, where
docs/operator.md shows them.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader

from api.i18n import translate
from deploy import stack
from tests.api.conftest import PASSWORD
from tests.api.weighbridge_seed import seed_registry
from tests.browser import log_in, new_page
from tests.conftest import Servers, stop_process, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.slow]

LANDFILL = [sys.executable, "-m", "landfill.cli"]
ROOT = Path(__file__).resolve().parents[1]
CONSOLE = {"width": 1600, "height": 1000}
LOADED, EMPTY = 14_560, 8_900
MM = 72 / 25.4  # PDF points per millimetre


class Stand:
    """The processes of one scale house: simulator, edge, ingest, API; stopped at the end."""

    def __init__(self, tmp: Path, servers: Servers, influx, site: str) -> None:
        self.tmp = tmp
        self.servers = servers
        self.broker = servers.mosquitto(state=tmp / "broker")
        self.api_port = stack.free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LANDFILL_")}
        self.env.update(
            LANDFILL_SITE=site,
            LANDFILL_MQTT_URL=self.broker.url,
            LANDFILL_INFLUX_URL=influx.url,
            LANDFILL_INFLUX_DB=influx.database,
            LANDFILL_DATABASE_URL=f"sqlite:///{tmp}/api.sqlite",
            LANDFILL_OUTBOX_PATH=str(tmp / "outbox.sqlite"),
            LANDFILL_FILL_STATE_PATH=str(tmp / "fill.sqlite"),
            LANDFILL_FILL_REGISTRY_WAIT_SECONDS="0",
            LANDFILL_INGEST_CLIENT_ID=f"ingest-{site}",
            LANDFILL_SCALE="wb1",
            LANDFILL_TICKET_UNTICKETED_MINUTES="0.1",  # a weight with no ticket after 6 s
            PYTHONUNBUFFERED="1",
            PYTHONPATH=os.environ.get("PYTHONPATH", str(ROOT)),
        )
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def run(self, *argv: str, stdin: str = "") -> str:
        done = subprocess.run(
            [*LANDFILL, *argv], env=self.env, cwd=self.tmp, input=stdin, text=True,
            capture_output=True, check=True,
        )  # fmt: skip
        return done.stdout.strip()

    def start(self, name: str, *argv: str, stdin: int | None = None) -> None:
        with (self.tmp / f"{name}.log").open("ab") as out:
            self.procs[name] = subprocess.Popen(
                [*LANDFILL, *argv], env=self.env, cwd=self.tmp, stdin=stdin, stdout=out, stderr=out
            )

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def stop(self, name: str) -> None:
        stop_process(self.procs[name])

    def start_api(self) -> None:
        self.start("api", "api", "--port", str(self.api_port))

        def healthy() -> bool:
            try:
                return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=30, what="the API")

    def platform(self, kg: int) -> None:
        """What stands on the platform now (the simulator ramps to it and holds it)."""
        sim = self.procs["simulator"]
        assert sim.stdin is not None
        sim.stdin.write(f"{kg}\n".encode())
        sim.stdin.flush()

    def close(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)


@pytest.fixture
def scale_house(tmp_path, servers, influx, site) -> Iterator[Stand]:
    s = Stand(tmp_path, servers, influx, site)
    s.run("users", "add", "oskon", "--role", "operator", "--name", "Oskon", "--password-stdin",
          stdin=PASSWORD)  # fmt: skip
    admin = s.run("tokens", "create", "registry-seed", "--role", "admin")
    s.start("simulator", "simulate", "scale", "--scenario", "typed", "--rate", "10",
            "--link", str(tmp_path / "scale.tty"), stdin=subprocess.PIPE)  # fmt: skip
    s.start("edge", "edge", "scale", "--port", str(tmp_path / "scale.tty"),
            "--stable-seconds", "1")  # fmt: skip
    s.start("ingest", "ingest", "--flush-seconds", "0.1")
    s.start_api()
    with httpx.Client(base_url=s.url, headers={"Authorization": f"Bearer {admin}"}) as client:
        seed_registry(client, site, datetime.now(UTC))
    yield s
    s.close()


def shot(page, tmp: Path, name: str, element: str = "") -> None:
    """A screenshot (of the page or one element) for the test's folder and, when asked, for
    docs/operator.md."""
    path = tmp / f"{name}.png"
    if element:
        page.locator(element).screenshot(path=str(path))
    else:
        page.screenshot(path=str(path))
    if os.environ.get("UPDATE_DOCS_IMAGES"):
        (ROOT / "docs" / "img").mkdir(exist_ok=True)
        shutil.copy(path, ROOT / "docs" / "img" / path.name)


def shows(page, kg: int, state: str | None = "stable", timeout: float = 30) -> None:
    """Wait until the big digits show ``kg`` in ``state`` (None: in any)."""
    where = f"[data-state='{state}']" if state else ""
    page.wait_for_selector(f"#weight[data-kg='{kg}']{where}", timeout=timeout * 1000)


def ready(page, kg: int) -> None:
    """Wait until a capture of ``kg`` is ready to weigh a ticket (ingest stored it)."""
    page.wait_for_selector(f"#ready[data-kg='{kg}']", timeout=30_000)


def pdf_text(pdf: bytes) -> tuple[str, list[float]]:
    """The text of a PDF (spaces of any kind as one) and its first page's size in mm."""
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(p.extract_text() for p in reader.pages)
    box = reader.pages[0].mediabox
    return re.sub(r"\s+", " ", text), [
        round(float(box.width) / MM),
        round(float(box.height) / MM),
        len(reader.pages),
    ]


def open_console(page, url: str) -> None:
    """The operator's console at ``url``, logged in as oskon, loaded."""
    page.goto(url)
    log_in(page, "oskon")
    page.wait_for_selector("body[data-loaded=true]", timeout=15_000)


def test_a_truck_weighed_in_and_out_at_the_console(scale_house, browser, influx, tmp_path):
    house = scale_house
    page, outside = new_page(browser, inside=house.url, viewport=CONSOLE)
    open_console(page, f"{house.url}/operator?lang=ky")
    assert page.get_attribute("html", "lang") == "ky"
    shows(page, 0)  # the empty platform, pushed by the stream

    # a loaded truck drives on; the operator types part of its plate and takes the suggestion
    house.platform(LOADED)
    shows(page, LOADED)
    assert page.inner_text("#weight-state") == "ТУРУКТУУ"
    ready(page, LOADED)
    page.keyboard.press("F4")
    page.keyboard.type("123a")
    page.wait_for_selector("#suggestions li[data-plate='01KG123ABC']")
    page.keyboard.press("Enter")
    assert page.input_value("#plate") == "01 KG 123 ABC"
    assert page.input_value("#client") == "tazalyk"  # from the vehicle
    assert page.input_value("#waste") == "msw"
    shot(page, tmp_path, "operator-live")
    page.keyboard.press("F2")
    page.wait_for_selector("#on-site tr[data-plate='01KG123ABC']")
    assert "14\u2009560" in page.inner_text("#on-site tr[data-plate='01KG123ABC']")
    assert page.get_attribute("#message", "class") == "ok"
    shot(page, tmp_path, "operator-weighed-in")

    # it unloads and comes back empty; the operator takes it from the list and weighs it out
    house.platform(0)
    shows(page, 0)
    house.platform(EMPTY)
    shows(page, EMPTY)
    ready(page, EMPTY)
    page.keyboard.press("Alt+1")
    assert page.input_value("#plate") == "01 KG 123 ABC"
    page.keyboard.press("F3")
    page.wait_for_selector(f"#ticket[data-net='{LOADED - EMPTY}']")
    number = page.get_attribute("#ticket", "data-number")
    assert page.locator("#on-site tr[data-plate='01KG123ABC']").count() == 0
    shot(page, tmp_path, "operator-ticket")

    # F8 prints the ticket's A5 page; what it prints says the net weight in Kyrgyz
    ticket_id = page.get_attribute("#ticket", "data-ticket")
    page.keyboard.press("F8")
    page.wait_for_selector(f"#print-frame[data-loaded='{ticket_id}:a5']", state="attached")
    printed = page.frame_locator("#print-frame").locator("main.sheet").inner_text()
    net_label, net = translate("ky", "ticket.net"), f"{LOADED - EMPTY:,}".replace(",", "\u2009")
    assert net_label in printed
    assert f"{net} кг" in printed
    assert number in printed
    # on paper: the print CSS lays it out on one A5 sheet and on the 80 mm roll
    sheet = page.context.new_page()
    for paper, size in (("a5", [148, 210]), ("80mm", [80, 200])):
        sheet.goto(f"{house.url}/api/v1/tickets/{ticket_id}/html?paper={paper}&lang=ky&preview=1")
        sheet.emulate_media(media="screen")
        shot(sheet, tmp_path, f"operator-ticket-{paper}", element="main.sheet")
        text, (width, height, pages) = pdf_text(sheet.pdf(prefer_css_page_size=True))
        assert [width, height, pages] == [*size, 1], paper
        assert f"{net_label} {LOADED - EMPTY:,} кг".replace(",", " ") in text, text
        assert "01 KG 123 ABC" in text
    # and it is a weighing point in InfluxDB, through the broker and ingest
    points = wait_for(lambda: influx.rows("SELECT * FROM weighing"), what="the weighing point")
    assert [
        (p["number"], p["net_kg"], p["gross_kg"], p["tare_kg"], p["vehicle"]) for p in points
    ] == [(number, LOADED - EMPTY, LOADED, EMPTY, "01KG123ABC")]
    assert outside == []  # no CDN, no font, nothing from elsewhere


def test_the_console_says_when_broker_or_api_are_away_and_recovers(scale_house, browser, tmp_path):
    house = scale_house
    page, _ = new_page(browser, viewport=CONSOLE)
    open_console(page, f"{house.url}/operator?lang=ky")
    house.platform(3_000)
    shows(page, 3_000)
    page.fill("#plate", "02kg100")  # typed, not sent: it must survive the outages
    banners = "#banners .banner:not([hidden])"

    # the broker goes away: the console says the weight may be old, the rest still works
    port, state = house.broker.port, house.broker.state
    house.broker.stop()
    page.wait_for_selector("#banner-broker:not([hidden])", timeout=20_000)
    assert page.get_attribute("#weight", "data-stale") == "true"
    shot(page, tmp_path, "operator-broker-away")
    house.broker = house.servers.mosquitto(port=port, state=state)
    page.wait_for_selector("#banner-broker", state="hidden", timeout=30_000)
    house.platform(3_200)
    shows(page, 3_200)

    # the API goes away: the stream and the lists say so; back, it all reconnects by itself
    house.stop("api")
    page.wait_for_selector("#banner-stream:not([hidden])", timeout=20_000)
    page.wait_for_selector("#banner-api:not([hidden])", timeout=20_000)
    shot(page, tmp_path, "operator-api-away")
    house.start_api()
    page.wait_for_function(f"document.querySelectorAll('{banners}').length === 0", timeout=30_000)
    assert page.input_value("#plate") == "02kg100"
    house.platform(12_000)
    shows(page, 12_000)
    ready(page, 12_000)

    # a refusal: the client is on hold, the console shows the server's Kyrgyz sentence
    page.focus("#plate")
    page.keyboard.type("HLD")
    page.wait_for_selector("#vehicle-info:has-text('Аймакта эмес')")
    page.keyboard.press("F2")
    page.wait_for_selector("#message[data-code='client_on_hold']")
    assert page.inner_text("#message") == translate(
        "ky", "refusal.client_on_hold", client="ОсОО «Карыз»"
    )
    shot(page, tmp_path, "operator-refusal")

    # scale events reach the operator: weights nobody ticketed, and a load that left too soon
    page.wait_for_selector("#events li[data-event=unticketed]", timeout=30_000)
    assert page.locator("#events li[data-event=not_back_to_zero]").count() >= 1
    house.platform(0)
    shows(page, 0, state=None)
    # the refused 12,000 kg is still there to use, but the truck has gone: the page says so
    page.wait_for_selector("#ready[data-kg='12000'][data-elsewhere=true]")
    house.platform(6_000)
    house.platform(0)  # it never stood still
    page.wait_for_selector("#events li[data-event=left_before_capture]", timeout=30_000)
    shot(page, tmp_path, "operator-events")
