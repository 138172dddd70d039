"""Contract messages to InfluxDB points: one definition of every measurement's shape.

Tags are few and bounded (site, scale, container, zone, kind); numbers are fields; the point's
time is the observation time from the message, so a replayed message overwrites itself.
"""

from __future__ import annotations

from typing import Any

from ingest.fill.tracker import FillPoint
from landfill.contract import (
    Capture,
    ContainerAlert,
    ContainerEvent,
    ContainerReading,
    Message,
    ScaleEvent,
)
from landfill.influx import Point, WritePrecision, epoch_ms


def _point(measurement: str, msg: Message) -> Point:
    return Point(measurement).tag("site", msg.site).time(msg.ts, WritePrecision.MS)


def capture_point(msg: Capture) -> Point:
    """`scale_capture`: one point per stable weight captured by the edge."""
    return (
        _point("scale_capture", msg)
        .tag("scale", msg.scale)
        .field("weight_kg", msg.weight_kg)
        .field("division_kg", msg.division_kg)
        .field("stable_ms", msg.stable_ms)
        .field("id", msg.id)
        .field("protocol", msg.protocol)
        .field("stable_source", msg.stable_source)
        .field("raw", " ".join(msg.raw))
    )


def scale_event_point(msg: ScaleEvent) -> Point:
    """`scale_event`: no data, overload, not back to zero, load left before capture."""
    p = (
        _point("scale_event", msg)
        .tag("scale", msg.scale)
        .tag("kind", msg.event)
        .field("id", msg.id)
        .field("detail", msg.detail)
    )
    if msg.weight_kg is not None:
        p = p.field("weight_kg", msg.weight_kg)
    return p


def _fields(p: Point, **fields: Any) -> Point:
    """Add the fields that have a value; a None is "no value", never a zero."""
    for name, value in fields.items():
        if value is not None:
            p = p.field(name, value)
    return p


def fill_point(reading: ContainerReading, level: FillPoint) -> Point:
    """`fill`: one point per reading, the raw and filtered level with the sensor's values."""
    p = _point("fill", reading).tag("container", reading.container).tag("zone", level.zone or None)
    return _fields(
        p,
        fill_pct=level.raw_pct,
        filtered_pct=level.filtered_pct,
        distance_mm=reading.distance_mm,
        temp_c=reading.temp_c,
        battery_pct=reading.battery_pct,
        battery_v=reading.battery_v,
        tilt=reading.tilt,
        quality=level.quality,
        overfull=level.overfull,
        id=reading.id,
    )


def container_alert_point(msg: ContainerAlert) -> Point:
    """`container_alert`: one point per alert transition (raised, cleared, escalated, repeated)."""
    p = _point("container_alert", msg).tag("container", msg.container).tag("kind", msg.alert)
    return _fields(
        p,
        active=msg.active,
        severity=msg.severity,
        transition=msg.transition,
        since=epoch_ms(msg.since),
        value=None if msg.value is None else float(msg.value),
        detail=msg.detail,
        id=msg.id,
    )


def container_event_point(msg: ContainerEvent) -> Point:
    """`container_event`: an emptying (candidate for a dispatcher to confirm)."""
    p = _point("container_event", msg).tag("container", msg.container).tag("kind", msg.event)
    return _fields(
        p,
        before_pct=None if msg.before_pct is None else float(msg.before_pct),
        after_pct=None if msg.after_pct is None else float(msg.after_pct),
        detail=msg.detail,
        id=msg.id,
    )


def to_points(msg: Message) -> list[Point]:
    """Return the points a message is stored as (none for kinds not stored)."""
    match msg:
        case Capture():
            return [capture_point(msg)]
        case ScaleEvent():
            return [scale_event_point(msg)]
        case ContainerAlert():
            return [container_alert_point(msg)]
        case ContainerEvent():
            return [container_event_point(msg)]
    # readings become `fill` points in ingest.fill.processor, which knows the container
    return []
