"""Every literal frame from weighbridge.md section 1, as bytes, with where it came from.

"reference" frames are quoted in /work/shared/reference/weighbridge.md (which names the manual
page or repository); "constructed" frames were built by us from a documented layout, because
the reference gives the layout but no capture. ``expected`` is the Reading the frame must
decode to, or None for a valid frame that carries no platform weight (a tare line, a busy
reply, our own poll echoed back). ``checksum_at`` is the index of a checksum byte, for the
broken-checksum test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from landfill.scale.frames import Reading, ScaleProtocol
from landfill.scale.protocols import get_protocol


@dataclass(frozen=True)
class Recorded:
    """One frame, the protocol (and settings) that reads it, and what it must decode to."""

    protocol: str
    frame: bytes
    expected: Reading | None
    source: str
    options: Mapping[str, object] = field(default_factory=dict)
    checksum_at: int | None = None

    def make(self) -> ScaleProtocol:
        """A fresh protocol instance with this frame's settings."""
        return get_protocol(self.protocol)(**self.options)

    @property
    def id(self) -> str:
        """A readable pytest id."""
        return f"{self.protocol}:{self.frame!r}"


@dataclass(frozen=True)
class Request:
    """A host request (poll) for a polled protocol, for the simulator's ``answer``."""

    protocol: str
    request: bytes
    source: str
    options: Mapping[str, object] = field(default_factory=dict)


def kg(text: str, **flags: Any) -> Reading:
    """Shorthand for an expected reading (kg unless ``unit=`` says otherwise)."""
    return Reading(Decimal(text), **flags)


FRAMES: list[Recorded] = [
    # --- 1.1 Yaohua XK3190-A9 continuous (tF=0): a Chinese truck-scale (地磅) reader's hex log
    # (code-index excerpt, repository not named); XOR checked by the reference.
    Recorded(
        "yaohua-a9",
        b"\x02+00000001B\x03",
        kg("0"),
        "reference 1.1: empty scale, XOR 1B",
        checksum_at=9,
    ),
    Recorded(
        "yaohua-a9",
        b"\x02+001560019\x03",
        kg("1560"),
        "reference 1.1: truck 1560 kg",
        checksum_at=9,
    ),
    Recorded(
        "yaohua-a9",
        b"\x02+001650019\x03",
        kg("1650"),
        "reference 1.1: truck + person 1650 kg",
        checksum_at=9,
    ),
    # Printed without STX/ETX by public Flask scripts (reference 1.1 "gotcha"); the trailing
    # "1C"/"13" is the XOR, not a status letter. STX/ETX re-added by us.
    Recorded(
        "yaohua-a9",
        b"\x02+00326001C\x03",
        kg("3260"),
        "reference 1.1: +00326001C, XOR 1C",
        checksum_at=10,
    ),
    Recorded(
        "yaohua-a9",
        b"\x02+003290013\x03",
        kg("3290"),
        "reference 1.1: +003290013, XOR 13",
        checksum_at=10,
    ),
    # --- 1.1/1.4 command mode (tF=1), address A
    Recorded(
        "yaohua-a9-poll",
        b"\x02AB03\x03",
        None,
        "reference 1.1: constructed gross poll, seen as an RS-485 echo",
        checksum_at=3,
    ),
    Recorded(
        "yaohua-a9-poll",
        b"\x02AB+00156001A\x03",
        kg("1560"),
        "constructed: B reply, 14 bytes, XOR of addr..dp",
        checksum_at=11,
    ),
    Recorded(
        "yaohua-a9-poll",
        b"\x02AD+00156001C\x03",
        kg("1560", net=True),
        "constructed: D (net) reply",
        checksum_at=11,
    ),
    Recorded(
        "yaohua-a9-poll",
        b"\x02AC+00020001B\x03",
        None,
        "constructed: C (tare) reply, no platform weight",
        checksum_at=11,
    ),
    # --- 1.2 "=" scoreboard frames, XK3190-A26 manual p.12-13 and WeightScale/WebServerXK3118T1
    Recorded(
        "keli-eq",
        b"=000.3000",
        kg("3.000"),
        "reference 1.2: A26 format 1 (reversed), 3.000",
        {"reverse": True},
    ),
    Recorded(
        "keli-eq",
        b"=00.1000-",
        kg("-1.00"),
        "reference 1.2: A26 format 1 (reversed), -1.00",
        {"reverse": True},
    ),
    Recorded("keli-eq", b"=0003.000", kg("3.000"), "reference 1.2: A26 format 2 (normal), 3.000"),
    Recorded("keli-eq", b"=-0001.00", kg("-1.00"), "reference 1.2: A26 format 2 (normal), -1.00"),
    Recorded(
        "keli-eq",
        b"=5123.45(kg)\r\n",
        kg("5123.45"),
        "reference 1.2: Keli XK3118T1 comment in Terminals.h",
    ),
    # --- 1.3 Yaohua A12 "w" lines: pengshulin/mcush test/mcush/misc/Yaohua.py (LF) and the
    # Liden LUW2001 manual p.17 (CR LF)
    Recorded("yaohua-a12", b"ww000.000lb\n", kg("0", unit="lb"), "reference 1.3: mcush demo line"),
    Recorded(
        "yaohua-a12", b"wn-0000.1kg\n", kg("-0.1", net=True), "reference 1.3: mcush demo line, net"
    ),
    Recorded("yaohua-a12", b"wt000.000kg\n", None, "reference 1.3: mcush demo line, tare"),
    Recorded(
        "yaohua-a12",
        b"ww0000.000kg\r\n",
        kg("0"),
        "reference 1.3: Liden LUW2001 continuous output A",
    ),
    # --- 1.3 Yaohua A12E 15-byte frame, easymanua.ls xk3190-a12e manual p.13
    Recorded(
        "yaohua-a12e",
        b"WG004.139kg3D\r\n",
        kg("4.139"),
        "reference 1.3: A12E manual example",
        checksum_at=11,
    ),
    Recorded(
        "yaohua-a12e",
        b"         OL23\r\n",
        kg("0", overload=True),
        "reference 1.3: A12E overload",
        checksum_at=11,
    ),
    Recorded(
        "yaohua-a12e",
        b"         LO23\r\n",
        kg("0", underload=True),
        "reference 1.3: A12E below -20d",
        checksum_at=11,
    ),
    # --- 1.10 ST/US family
    Recorded(
        "st-us",
        b"ST,NT,+  1.234kg\r\n",
        kg("1.234", stable=True, net=True),
        "reference 1.10: imTigger/webapp-hardware-bridge issue #4 (CR LF per the format)",
    ),
    Recorded(
        "st-us",
        b"ST,GS,+01234567  oz\r\n",
        kg("1234567", unit="oz", stable=True),
        "reference 1.10: KERN KXS manual p.70",
    ),
    Recorded(
        "st-us",
        b"US,GS,+01234.56  lb\r\n",
        kg("1234.56", unit="lb", stable=False),
        "reference 1.10: KERN KXS manual p.70",
    ),
    # The manual shows "OL,GS,+" then spaces without a count; we pad to the 13-character field
    # of the other KERN examples.
    Recorded(
        "st-us",
        b"OL,GS,+" + b" " * 10 + b"\r\n",
        kg("0", overload=True),
        "reference 1.10: KERN KXS overload",
    ),
    # --- 1.5 Toledo continuous: Jaguar stream captured by ScaleResource (flipbuilder page 119)
    Recorded(
        "toledo",
        b"\x021     200      \r",
        kg("200", unit="lb", stable=True),
        "reference 1.5: Jaguar capture, one dummy zero, x2",
    ),
    Recorded(
        "toledo",
        b"\x021     200      \rN",
        kg("200", unit="lb", stable=True),
        "reference 1.5: the same with the checksum the reference computed",
        {"checksum": True},
        checksum_at=17,
    ),
    # The Jaguar frame as an 8N1 port sees it when the indicator sends 7E1: parity in bit 7.
    Recorded(
        "toledo",
        bytes(b | (0x80 if bin(b).count("1") % 2 else 0) for b in b"\x021     200      \r"),
        kg("200", unit="lb", stable=True),
        "constructed: Jaguar capture with even parity bits",
    ),
    # SWA "+" (0x2B: one decimal, x1), SWB "9" (0x39: net, motion, kg), tare 10.0
    Recorded(
        "toledo",
        b"\x02+9   1234   100\r",
        kg("123.4", stable=False, net=True, tare=Decimal("10.0")),
        "constructed from the Wildcat status tables (reference 1.5)",
    ),
    # --- 1.7 SMA, Sartorius PR 5220 manual p.130
    Recorded(
        "sma",
        b"\n 1G       5.025lb \r",
        kg("5.025", unit="lb", stable=True),
        "reference 1.7: constructed from the PR 5220 example",
    ),
    Recorded(
        "sma",
        b"\n 1GM      7.650kg \r",
        kg("7.650", stable=False),
        "constructed: the manual's R example, G M 7.650 kg",
    ),
    Recorded("sma", b"\n?\r", None, "reference 1.7: unknown command reply"),
    # --- 1.6 MT-SICS, AT balances manual p.87 and janelia-python/mettler_toledo_device_python
    Recorded(
        "mt-sics",
        b"S S 100.00 g\r\n",
        kg("100.00", unit="g", stable=True),
        "reference 1.6: manual example S S 100.00 g",
    ),
    Recorded(
        "mt-sics",
        b"S S     100.00 kg\r\n",
        kg("100.00", stable=True),
        "constructed: right-aligned value field",
    ),
    Recorded(
        "mt-sics",
        b"S D     -0.6800 g\r\n",
        kg("-0.6800", unit="g", stable=False),
        "constructed from janelia README [-0.6800, 'g', 'D']",
    ),
    Recorded("mt-sics", b"S I\r\n", None, "reference 1.6: not executable"),
    Recorded("mt-sics", b"S +\r\n", kg("0", overload=True), "reference 1.6: overload"),
    Recorded("mt-sics", b"S -\r\n", kg("0", underload=True), "reference 1.6: underload"),
    # --- 1.9 Rinstrum FMT_1, R320 manual p.46
    Recorded(
        "rinstrum",
        b"\x02  1234.5G\x03",
        kg("1234.5", stable=True),
        "reference 1.9: constructed FMT_1",
    ),
    # --- 1.11 Tenso-M binary (dvor85/regweight, WendyH/TenzoM1CAddin)
    Recorded(
        "tenso-m",
        b"\xff\x01\xc3\xe3\xff\xff",
        None,
        "reference 1.11: constructed C3 poll, seen as an RS-485 echo",
        checksum_at=3,
    ),
    Recorded(
        "tenso-m",
        bytes.fromhex("ff01c360150010afffff"),
        kg("1560", stable=True),
        "constructed: C3 reply, BCD 60 15 00, CON 0x10",
        checksum_at=7,
    ),
    Recorded(
        "tenso-m",
        bytes.fromhex("ff01c330230011fffeffff"),
        kg("233.0", stable=True),
        "constructed: C3 reply whose CRC is FF, sent escaped as FF FE",
    ),
    Recorded(
        "tenso-m",
        bytes.fromhex("ff01c3501200822dffff"),
        kg("-12.50", stable=False),
        "constructed: C3 reply, CON 0x82 (minus, 2 decimals), moving",
        checksum_at=7,
    ),
    Recorded(
        "tenso-m",
        bytes.fromhex("ff01c35012001836ffff"),
        kg("0", stable=True, overload=True),
        "constructed: C3 reply, CON 0x18 (stable, overload)",
        checksum_at=7,
    ),
]

REQUESTS: list[Request] = [
    Request("yaohua-a9-poll", b"\x02AB03\x03", "reference 1.1: constructed gross poll, address A"),
    Request("sma", b"\nW\r", "reference 1.7: LF W CR"),
    Request("mt-sics", b"SI\r\n", "reference 1.6: SI"),
    Request(
        "tenso-m", b"\xff\x01\xc3\xe3\xff\xff", "reference 1.11: constructed C3 poll, address 1"
    ),
]


@dataclass(frozen=True)
class Rejected:
    """A frame that must be refused with ``reason`` and give no Reading."""

    protocol: str
    frame: bytes
    reason: str
    why: str
    options: Mapping[str, object] = field(default_factory=dict)


REJECTS: list[Rejected] = [
    Rejected(
        "toledo",
        b"\x021     201      \r",
        "format",
        "constructed: SWA promises one dummy zero, the digits end in 1 (zeros appended?)",
    ),
    Rejected(
        "toledo",
        b'\x021 "   200      \r',
        "format",
        "constructed: SWC bit 1 set, a unit code the reference does not document",
    ),
    Rejected(
        "keli-eq",
        b"=-0001.00",
        "format",
        "reference 1.2 normal frame read with reverse=True: the sign lands at the end",
        {"reverse": True},
    ),
    Rejected("keli-eq", b"=0003.00=", "truncated", "constructed: A26 frame that lost a byte"),
    Rejected("st-us", b"ST,GS,+  1.234\r\n", "format", "constructed: no unit, never guessed"),
    Rejected("yaohua-a9", b"\x02+0015a0019\x03", "checksum", "constructed: digit hit by noise"),
    Rejected("yaohua-a9", b"\x02+00A560069\x03", "format", "constructed: XOR right, not digits"),
    Rejected("yaohua-a12e", b"WG004.139lb3D\r\n", "checksum", "constructed: unit changed"),
    Rejected("sma", b"\n 1G       5.025xx \r", "format", "constructed: unknown unit"),
    Rejected("mt-sics", b"S S 100.00 furlong\r\n", "format", "constructed: unknown unit"),
    Rejected("rinstrum", b"\x02  1234.5Q\x03", "format", "constructed: unknown status"),
    Rejected(
        "tenso-m",
        bytes.fromhex("ff01c3601a001049ffff"),
        "format",
        "constructed: BCD nibble 0xA under a correct CRC",
    ),
]
