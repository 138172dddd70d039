"""MQTT logins and ACL (`landfill mqtt-acl`) against a real mosquitto started with the files.

Each negative check has a positive twin on the same topic or subscriber, so "nothing arrived"
means the broker refused, not that the test listened in the wrong place.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from deploy import mqtt_acl, stack
from deploy.mqtt_acl import Registry
from landfill import contract
from landfill.cli import main as landfill
from landfill.contract import (
    Capture,
    ContainerAlert,
    ContainerEvent,
    ContainerReading,
    ContainerRegistry,
    LiveWeight,
    Message,
    NodeStatus,
    Receipt,
    ScaleEvent,
    Ticket,
    Topics,
    kind_of,
)
from landfill.mqtt import broker_address, make_client
from landfill.settings import EdgeSensorsSettings, IngestSettings, login_url
from tests.conftest import wait_for

pytestmark = pytest.mark.integration

SITE = "aclsite"
REGISTRY = Registry((SITE,), ((SITE, "scale1"), (SITE, "scale2")))
T = Topics(SITE)
# recent: ingest refuses a message time outside its window (docs/architecture.md, Time window)
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
QUIET = 1.0  # how long "nothing arrives" is watched, after a positive twin did arrive


# ---- the generator, without a broker -------------------------------------------------------


def test_hash_is_mosquitto_passwd_format(tmp_path):
    hashed = mqtt_acl.hash_password("s3cret", salt=b"0123456789ab")
    assert hashed.startswith("$7$101$MDEyMzQ1Njc4OWFi$")
    assert mqtt_acl.verify_password("s3cret", hashed)
    assert not mqtt_acl.verify_password("s3cret!", hashed)
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd not installed")
    passwd = tmp_path / "passwd"
    subprocess.run([tool, "-c", "-b", str(passwd), "alice", "s3cret"], check=True)
    user, _, theirs = passwd.read_text().strip().partition(":")
    assert user == "alice"
    assert mqtt_acl.verify_password("s3cret", theirs)


def test_every_contract_topic_has_exactly_the_writers_the_rules_say():
    assert contract.ROOT == mqtt_acl.ROOT
    writers: dict[str, set[str]] = {}
    for login in mqtt_acl.logins(REGISTRY):
        for topic in login.write:
            kind = contract.parse_topic(topic.replace("+", "x"))
            assert kind is not None, f"{login.user} may write {topic}, outside the contract"
            writers.setdefault(kind, set()).add(login.user)
    scales = {"edge-scale-scale1", "edge-scale-scale2"}
    assert writers == {
        "weight": scales,
        "capture": scales,
        "scale_event": scales,
        "reading": {"edge-sensors-aclsite"},
        "alert": {"landfill-ingest"},
        "container_event": {"landfill-ingest"},
        "ticket": {"api"},
        "registry": {"api"},
        "status": {*scales, "edge-sensors-aclsite", "landfill-ingest", "api"},
        "dead_letter": {"edge-sensors-aclsite", "landfill-ingest"},
        "receipt": {"landfill-ingest"},
    }
    ingest = next(x for x in mqtt_acl.logins(REGISTRY) if x.user == "landfill-ingest")
    assert list(ingest.read) == T.subscriptions()


def test_rerun_keeps_passwords_and_files_rotate_replaces_one(tmp_path):
    logins = mqtt_acl.logins(REGISTRY)
    first = mqtt_acl.write_files(tmp_path, logins)
    assert "edge-scale-scale1" in first.new
    files = {p.name: p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    again = mqtt_acl.write_files(tmp_path, logins)
    assert again.new == []
    assert again.rotated == []
    assert {p.name: p.read_text() for p in tmp_path.rglob("*") if p.is_file()} == files
    mqtt_acl.write_files(tmp_path, logins, rotate=["edge-scale-scale1"])
    now = {p.name: p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    assert now["edge-scale-scale1.env"] != files["edge-scale-scale1.env"]
    assert now["edge-scale-scale2.env"] == files["edge-scale-scale2.env"]
    creds = tmp_path / "credentials"
    assert {oct(p.stat().st_mode & 0o777) for p in creds.iterdir()} == {"0o600"}
    with pytest.raises(mqtt_acl.AclError, match="companions"):
        mqtt_acl.write_files(tmp_path, logins, rotate=["landfill-ingest-registry"])


def test_registry_from_the_api_database(tmp_path):
    from api import db

    url = f"sqlite:///{tmp_path}/api.sqlite"
    with pytest.raises(mqtt_acl.AclError, match="start the API once"):
        mqtt_acl.read_registry(url)
    engine = db.make_engine(url)
    db.migrate(engine)
    with db.session_factory(engine)() as session:
        site = db.Site(code="dostuk", name="Dostuk")
        session.add(site)
        session.flush()
        session.add(db.Scale(site_id=site.id, code="scale1", name="Weighbridge 1"))
        session.commit()
    engine.dispose()
    assert mqtt_acl.read_registry(url) == Registry(("dostuk",), (("dostuk", "scale1"),))


def test_names_that_cannot_be_logins_are_refused():
    with pytest.raises(mqtt_acl.AclError, match="one site only"):
        mqtt_acl.logins(Registry(("a", "b"), (("a", "s1"), ("b", "s1"))))
    with pytest.raises(mqtt_acl.AclError, match="username"):
        mqtt_acl.logins(Registry(("a",), (("a", "s:1"),)))
    with pytest.raises(mqtt_acl.AclError, match="SITE:SCALE"):
        mqtt_acl.registry_from_options([], ["scale1"])


def test_command_line_writes_the_files(tmp_path, capsys):
    assert landfill(["mqtt-acl", "--out", str(tmp_path), "--scale", "d:s1"]) == 0
    out = capsys.readouterr().out
    assert "edge-scale-s1" in out
    assert "HUP" in out
    env = (tmp_path / "credentials" / "edge-scale-s1.env").read_text()
    assert "LANDFILL_MQTT_USERNAME=edge-scale-s1" in env
    assert env.split("LANDFILL_MQTT_PASSWORD=")[1].strip() not in out


def test_login_settings_reach_the_url_and_companions():
    s = IngestSettings(mqtt_url="mqtt://old:x@h:1883", mqtt_username="ingest", mqtt_password="p")
    assert s.mqtt_url == "mqtt://ingest:p@h:1883"
    assert s.registry_url == "mqtt://ingest-registry:p@h:1883"
    e = EdgeSensorsSettings(mqtt_url="mqtt://h:1883", mqtt_username="edge-sensors-d")
    assert e.source_url == "mqtt://edge-sensors-d-source@h:1883"
    assert EdgeSensorsSettings(mqtt_url="mqtt://h:1883").source_url == "mqtt://h:1883"
    with pytest.raises(ValueError, match="USERNAME"):
        IngestSettings(mqtt_password="p")


# ---- a real broker -------------------------------------------------------------------------


class Client:
    """A connected test client: records CONNACK, SUBACK codes, messages and disconnects."""

    def __init__(self, url: str, client_id: str = "", *, clean: bool = True, will: Any = None):
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.rc: Any = None
        self.granted: list[Any] = []
        self.disconnects = 0
        self.messages: list[tuple[str, bytes]] = []
        cid = client_id or f"t-{uuid.uuid4().hex[:8]}"
        self.client = make_client(url, cid, clean_start=clean, will=will)
        self.client.reconnect_delay_set(30, 30)  # a refused client stays refused in the test
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, m.payload))
        self.client.on_disconnect = self._on_disconnect
        self.client.connect(*broker_address(url))
        self.client.loop_start()
        wait_for(lambda: self.rc is not None, 10, "CONNACK")

    def _on_connect(self, _c: Any, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        self.rc = rc
        if not rc.is_failure:
            self.connected.set()

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, codes: list[Any], _p: Any) -> None:
        self.granted = codes
        self.subscribed.set()

    def _on_disconnect(self, *_: Any) -> None:
        self.disconnects += 1

    @property
    def ok(self) -> bool:
        """Whether the broker accepted the login."""
        return self.rc is not None and not self.rc.is_failure

    def subscribe(self, *filters: str) -> list[Any]:
        """Subscribe (QoS 1) and return the broker's codes."""
        self.subscribed.clear()
        self.client.subscribe([(f, 1) for f in filters])
        assert self.subscribed.wait(10)
        return self.granted

    def publish(self, msg: Message, topic: str | None = None, retain: bool = False) -> None:
        """Publish QoS 1 and wait for the PUBACK (mosquitto acks denied publishes too)."""
        self.client.publish(topic or T.for_message(msg), msg.to_json(), 1, retain).wait_for_publish(
            10
        )

    def topics(self) -> list[str]:
        """Topics received so far."""
        return [t for t, _ in self.messages]

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="module")
def logins_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mqtt")
    mqtt_acl.write_files(out, mqtt_acl.logins(REGISTRY))
    return out


@pytest.fixture(scope="module")
def acl_broker(logins_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    state = tmp_path_factory.mktemp("acl-broker")
    server = stack.start_mosquitto(state, stack.free_port(), acl=logins_dir)
    yield server
    server.stop()


def password(logins_dir: Path, user: str) -> str:
    env = (logins_dir / "credentials" / f"{user}.env").read_text()
    return env.split("LANDFILL_MQTT_PASSWORD=")[1].split()[0]


@pytest.fixture
def connect(acl_broker: Any, logins_dir: Path) -> Iterator[Any]:
    """Factory: a client logged in as USER (companions use their owner's password)."""
    made: list[Client] = []

    def factory(user: str, secret: str | None = None, **kw: Any) -> Client:
        owner = user.removesuffix("-registry").removesuffix("-source").removesuffix("-live")
        url = login_url(acl_broker.url, user, secret or password(logins_dir, owner))
        made.append(Client(url, **kw))
        return made[-1]

    yield factory
    for c in made:
        c.close()


def capture(scale: str, **kw: Any) -> Capture:
    fields = {"weight_kg": 14_560, "division_kg": 20, "stable_ms": 2000, "protocol": "yaohua-a9"}
    return Capture.weighed(ts=NOW, site=SITE, scale=scale, **(fields | kw))


def alert() -> ContainerAlert:
    return ContainerAlert(
        ts=NOW,
        site=SITE,
        container="c1",
        alert="fire",
        active=True,
        severity="critical",
        transition="raised",
        since=NOW,
    )


def registry() -> ContainerRegistry:
    return ContainerRegistry(ts=NOW, site=SITE, containers=[])


def test_wrong_password_unknown_user_and_anonymous_are_refused(acl_broker, connect):
    assert not connect("edge-scale-scale1", secret="wrong").ok
    assert not connect("nobody", secret="x").ok
    anonymous = Client(acl_broker.url)
    try:
        assert not anonymous.ok
    finally:
        anonymous.close()
    assert connect("edge-scale-scale1").ok


def test_scale_edge_cannot_subscribe_to_everything(connect):
    scale = connect("edge-scale-scale1")
    # mosquitto 2.0's acl_file grants the SUBACK and checks read rights on every delivery
    scale.subscribe("#", f"{mqtt_acl.ROOT}/#", "$SYS/#")
    monitor = connect("monitor")
    monitor.subscribe(f"{mqtt_acl.ROOT}/#")
    ingest = connect("landfill-ingest")
    ingest.publish(alert(), retain=True)
    connect("edge-scale-scale2").publish(capture("scale2"))
    wait_for(lambda: len(monitor.messages) >= 2, what="the monitor to see both")
    late = connect("edge-scale-scale1")
    late.subscribe("#")  # retained messages are checked too
    time.sleep(QUIET)
    assert scale.messages == []
    assert late.messages == []
    ingest.client.publish(T.for_message(alert()), b"", 1, True).wait_for_publish(10)


def attempt(connect: Any, user: str, msg: Message, retain: bool = False) -> None:
    """Try a publish the ACL denies, on a connection of its own.

    mosquitto 2.0.11 answers a 3.1.1 client with a PUBACK carrying reason 135 (not
    authorised), which paho takes as a protocol error: the connection ends either way.
    """
    client = connect(user)
    info = client.client.publish(T.for_message(msg), msg.to_json(), 1, retain)
    try:
        info.wait_for_publish(2)
    except (RuntimeError, ValueError):
        pass
    client.close()


def test_scale_edge_publishes_only_its_own_scale(connect):
    ingest = connect("landfill-ingest")
    ingest.subscribe(*T.subscriptions())
    registry_reader = connect("landfill-ingest-registry")
    registry_reader.subscribe(f"{mqtt_acl.ROOT}/+/registry/containers")
    attempt(connect, "edge-scale-scale1", capture("scale2"))  # another scale's
    attempt(connect, "edge-scale-scale1", alert())  # a fake fire
    attempt(connect, "edge-scale-scale1", registry(), retain=True)  # an empty registry
    connect("edge-scale-scale1").publish(capture("scale1"))
    wait_for(lambda: T.of(Capture, scale="scale1") in ingest.topics(), what="scale1's own capture")
    time.sleep(QUIET)
    assert ingest.topics() == [T.of(Capture, scale="scale1")]
    assert registry_reader.messages == []


def test_ingest_receives_everything_it_consumes_from_its_rightful_writers(connect):
    ingest = connect("landfill-ingest")
    assert not any(c.is_failure for c in ingest.subscribe(*T.subscriptions()))
    sent = {
        "edge-scale-scale1": [
            capture("scale1"),
            ScaleEvent(ts=NOW, site=SITE, scale="scale1", event="no_data"),
        ],
        "edge-sensors-aclsite": [
            ContainerReading(ts=NOW, site=SITE, container="c1", device="d1", model="em310")
        ],
        "api": [
            Ticket(
                ts=NOW,
                site=SITE,
                number="1",
                status="completed",
                scale="scale1",
                gross_kg=20_000,
                tare_kg=8_000,
                net_kg=12_000,
            )
        ],
    }
    for user, messages in sent.items():
        client = connect(user)
        for msg in messages:
            client.publish(msg)
    own = [alert(), ContainerEvent(ts=NOW, site=SITE, container="c1", event="emptying")]
    for msg in own:  # on its own connection: a second one with its login would replace it
        ingest.publish(msg)
    expected = {T.for_message(m) for m in [*own, *(m for ms in sent.values() for m in ms)]}
    wait_for(lambda: set(ingest.topics()) == expected, what="every kind ingest consumes")
    ingest.close()
    worker = connect("landfill-ingest")  # a shared-subscription worker
    assert not any(c.is_failure for c in worker.subscribe(f"$share/g/{T.subscriptions()[0]}"))


def test_registry_only_from_the_api_and_read_by_the_sensor_bridge(connect):
    monitor = connect("monitor")
    monitor.subscribe(T.of(ContainerRegistry))
    connect("api").publish(registry().model_copy(update={"id": "from-api"}), retain=True)
    wait_for(lambda: monitor.messages, what="the api's registry")
    attempt(connect, "landfill-ingest", registry(), retain=True)
    attempt(connect, "edge-sensors-aclsite", registry(), retain=True)
    sensors = connect("edge-sensors-aclsite")
    sensors.subscribe(T.of(ContainerRegistry))
    wait_for(lambda: sensors.messages, what="the retained registry")
    time.sleep(QUIET)
    assert len(monitor.messages) == 1
    assert [b'"id":"from-api"' in p for _, p in sensors.messages] == [True]
    connect("api").client.publish(T.of(ContainerRegistry), b"", 1, True).wait_for_publish(10)


def test_every_process_connects_with_its_last_will_and_status(connect):
    monitor = connect("monitor")
    monitor.subscribe(f"{mqtt_acl.ROOT}/+/node/+/status")
    nodes = {
        "edge-scale-scale1": "edge-scale-scale1",
        "edge-sensors-aclsite": "edge-sensors",
        "landfill-ingest": "landfill-ingest",
        "api": "api-8000",
    }
    for user, node in nodes.items():
        client = connect(user, will=(T, node))
        assert client.ok, user
        client.client.disconnect()  # a clean disconnect sends no will, so send the status
        client.client.loop_stop()
        client = connect(user)
        status = contract.NodeStatus(ts=NOW, site=SITE, node=node, online=True)
        client.publish(status)
    wait_for(
        lambda: {T.of(NodeStatus, node=n) for n in nodes.values()} <= set(monitor.topics()),
        what="every node's status",
    )


def test_nobody_takes_over_ingests_session(connect):
    ingest = connect("landfill-ingest", client_id="landfill-ingest", clean=False)
    ingest.subscribe(T.of(Capture, scale="scale1"))
    thief = connect("edge-scale-scale2", client_id="landfill-ingest", clean=True)
    assert thief.ok  # accepted, but as client id edge-scale-scale2 (its username)
    connect("edge-scale-scale1").publish(capture("scale1"))
    wait_for(lambda: ingest.messages, what="ingest still receiving")
    assert ingest.disconnects == 0
    assert ingest.client.is_connected()
    # the same id with ingest's own login is ingest (one session): the old connection goes
    again = connect("landfill-ingest", client_id="anything", clean=False)
    assert again.ok
    wait_for(lambda: ingest.disconnects >= 1, what="the older ingest connection to be replaced")


def test_rotation_takes_effect_on_reload(acl_broker, logins_dir, connect, tmp_path):
    out = tmp_path / "mqtt"
    shutil.copytree(logins_dir, out)
    old = password(out, "edge-scale-scale2")
    state = tmp_path / "broker"
    server = stack.start_mosquitto(state, stack.free_port(), acl=out)
    try:
        mqtt_acl.write_files(out, mqtt_acl.logins(REGISTRY), rotate=["edge-scale-scale2"])
        new = password(out, "edge-scale-scale2")
        assert new != old
        os.kill(server.proc.pid, signal.SIGHUP)  # mosquitto rereads the password file
        user = "edge-scale-scale2"

        def refused_old() -> bool:
            c = Client(login_url(server.url, user, old))
            c.close()
            return not c.ok

        wait_for(refused_old, 10, "the old password to be refused")
        fresh = Client(login_url(server.url, user, new))
        fresh.close()
        assert fresh.ok
    finally:
        server.stop()


def test_real_ingest_stores_what_the_scale_edge_sends_with_their_own_logins(
    acl_broker, logins_dir, connect, influx, tmp_path
):
    from bench.ingest import stored_count
    from ingest.service import Ingest

    settings = IngestSettings(
        site=SITE,
        mqtt_url=acl_broker.url,
        mqtt_username="landfill-ingest",
        mqtt_password=password(logins_dir, "landfill-ingest"),
        influx_url=influx.url,
        influx_db=influx.database,
        ingest_flush_seconds=0.1,
        fill_state_path=tmp_path / "fill-state.sqlite",
    )
    monitor = connect("monitor")
    monitor.subscribe(T.of(NodeStatus, node="landfill-ingest"))
    ingest = Ingest(settings)
    ingest.start()
    try:
        wait_for(
            lambda: any(b'"online":true' in p for _, p in monitor.messages), 30, "ingest online"
        )
        connect("edge-scale-scale1").publish(capture("scale1"))
        wait_for(lambda: stored_count(influx, "scale1") == 1, 30, "the capture in InfluxDB")
    finally:
        ingest.stop()


def test_stack_up_with_acl_needs_the_logins(tmp_path):
    with pytest.raises(stack.StackError, match="landfill mqtt-acl"):
        stack.up(tmp_path, acl=True, log=lambda _m: None)


# ---- the production files ------------------------------------------------------------------

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_compose_and_units_give_each_process_its_own_login():
    import yaml

    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    creds = "./production/mqtt/credentials/"
    assert services["ingest"]["env_file"] == f"{creds}landfill-ingest.env"
    assert services["api"]["env_file"] == f"{creds}api.env"
    assert services["edge-scale"]["env_file"].startswith(f"{creds}edge-scale-")
    assert services["mosquitto"]["env_file"] == f"{creds}monitor.env"
    assert services["mosquitto"]["ports"] == ["8883:8883"]  # plain MQTT is not published
    assert "@" not in compose["x-app"]["environment"]["LANDFILL_MQTT_URL"]
    for unit in (DEPLOY / "systemd").glob("*.service"):
        assert "EnvironmentFile=/etc/landfill/credentials/" in unit.read_text(), unit.name


def test_production_broker_config_runs_with_logins_acl_and_tls(logins_dir, tmp_path, monkeypatch):
    import getpass

    certs = tmp_path / "certs"
    certs.mkdir()
    (tmp_path / "data").mkdir()
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is not installed: apt-get install openssl")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(certs / "server.key"), "-out", str(certs / "server.crt")],
        check=True, capture_output=True,
    )  # fmt: skip
    plain, tls = stack.free_port(), stack.free_port()
    text = (DEPLOY / "production" / "mosquitto.conf").read_text()
    for old, new in (
        ("/mosquitto/config/mqtt/", f"{logins_dir}/"),
        ("/mosquitto/certs/", f"{certs}/"),
        ("/mosquitto/data/", f"{tmp_path}/data/"),
        ("listener 1883\n", f"listener {plain} 127.0.0.1\n"),
        ("listener 8883\n", f"listener {tls} 127.0.0.1\n"),
    ):
        assert old in text
        text = text.replace(old, new)
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"user {getpass.getuser()}\n{text}")
    binary = stack.find_binary("mosquitto")
    assert binary is not None
    log = (tmp_path / "mosquitto.log").open("wb")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: stack.port_open("127.0.0.1", tls), 15, "the TLS listener")
        monkeypatch.setenv("SSL_CERT_FILE", str(certs / "server.crt"))  # as an installer's CA
        user = "edge-scale-scale1"
        good = Client(login_url(f"mqtts://localhost:{tls}", user, password(logins_dir, user)))
        good.close()
        assert good.ok
        for url in (f"mqtts://localhost:{tls}", f"mqtt://127.0.0.1:{plain}"):
            anonymous = Client(url)
            anonymous.close()
            assert not anonymous.ok, url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_the_api_live_login_reads_the_scale_traffic_of_its_site_and_writes_nothing(connect):
    live = connect("api-live")  # the operator console's stream (api/live.py), the api's companion
    live.subscribe(*(kind_of(m).topic_filter(SITE) for m in (LiveWeight, ScaleEvent, Receipt)))
    live.subscribe(kind_of(NodeStatus).topic_filter(SITE))
    scale = connect("edge-scale-scale1")
    weight = LiveWeight(ts=NOW, site=SITE, scale="scale1", weight_kg=14_560, stable=True)
    scale.publish(weight)
    scale.publish(ScaleEvent(ts=NOW, site=SITE, scale="scale1", event="no_data"))
    connect("landfill-ingest").publish(Receipt(ts=NOW, site=SITE, scale="scale1", ids=["a"]))
    wanted = {
        T.for_message(weight),
        T.of(ScaleEvent, scale="scale1"),
        T.of(Receipt, scale="scale1"),
    }
    wait_for(lambda: wanted <= set(live.topics()), what="the live login's reads")
    monitor = connect("monitor")
    monitor.subscribe(f"{mqtt_acl.ROOT}/#")
    attempt(connect, "api-live", capture("scale1", protocol="from-the-console"))
    time.sleep(QUIET)
    assert not [p for _, p in monitor.messages if b"from-the-console" in p]
