"""What ingest does with each message kind: the extension point for derivations such as fill.

A processor turns one validated contract message into lines to write and messages to publish,
and may emit more on a timer tick (a sensor that went silent is "offline"). The service picks
the processor by the message's topic kind from a plain dict, writes the lines, publishes the
messages with QoS 1, waits for the broker's PUBACK and only then acknowledges the source
message. A redelivered message is processed again, so processors must be deterministic about
ids (`contract.stable_id`) and times: the replay then overwrites itself.

Processors run on one thread (the service's batcher), so they need no locks. With N workers on
a shared subscription each worker sees a share of every container's stream: a processor that
keeps per-container state must say how it copes (for example one worker for that kind).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ingest.points import to_lines
from landfill.contract import KINDS, Message

__all__ = ["NOTHING", "Output", "Processor", "Store", "default_processors"]


@dataclass(frozen=True)
class Output:
    """Lines of line protocol to write and derived messages to publish (QoS 1)."""

    lines: list[str] = field(default_factory=list)
    publish: list[Message] = field(default_factory=list)


NOTHING = Output()


class Processor(Protocol):
    """Turns messages of one kind into lines and derived messages."""

    def process(self, msg: Message) -> Output:
        """Return what one message becomes; raise ValueError to dead-letter it."""
        ...

    def tick(self, now: datetime) -> Output:
        """Return what the passing of time produces (alerts for silent sensors, say)."""
        ...


class Store:
    """Store the message as `ingest.points` defines its measurement; derive nothing."""

    def process(self, msg: Message) -> Output:
        """Return the message's points."""
        return Output(lines=to_lines(msg))

    def tick(self, now: datetime) -> Output:  # noqa: ARG002 - nothing depends on time here
        """Nothing happens with time."""
        return NOTHING


def default_processors(
    extra: Mapping[str, Processor] | None = None,
) -> dict[str, Processor]:
    """Return the processor per kind: `Store` for every stored kind, overridden by ``extra``."""
    store = Store()
    table: dict[str, Processor] = {kind.name: store for kind in KINDS if kind.stored}
    table.update(extra or {})
    return table
