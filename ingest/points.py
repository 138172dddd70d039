"""Contract messages to InfluxDB points: one definition of every measurement's shape.

Tags are few and bounded (site, scale, container, zone, kind); numbers are fields; the point's
time is the observation time from the message, so a replayed message overwrites itself.
"""

from __future__ import annotations

from landfill.contract import Capture, Message, ScaleEvent
from landfill.influx import Point, WritePrecision


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


def to_points(msg: Message) -> list[Point]:
    """Return the points a message is stored as (none for kinds not stored)."""
    match msg:
        case Capture():
            return [capture_point(msg)]
        case ScaleEvent():
            return [scale_event_point(msg)]
    return []
