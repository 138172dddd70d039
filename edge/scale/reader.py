"""Serial port access: the only module that imports pyserial.

The port is a pyserial URL (`/dev/ttyUSB0`, a pty path, `loop://`, `socket://host:port`), so
tests and the bench use the same code as the scale house. A port that disappears (USB-serial
adapter unplugged) raises `PortError`; the caller reopens it with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass

import serial

from landfill.scale.frames import SerialSettings


class PortError(OSError):
    """The serial port could not be opened, read or written."""


@dataclass
class SerialPort:
    """An open serial port with a short read timeout."""

    url: str
    settings: SerialSettings
    timeout: float = 0.05

    def __post_init__(self) -> None:
        try:
            self._port = serial.serial_for_url(
                self.url,
                baudrate=self.settings.baudrate,
                bytesize=self.settings.bytesize,
                parity=self.settings.parity,
                stopbits=self.settings.stopbits,
                timeout=self.timeout,
                write_timeout=1.0,
            )
        except (serial.SerialException, ValueError, OSError) as exc:
            raise PortError(f"cannot open {self.url}: {exc}") from exc

    def read(self, size: int = 512) -> bytes:
        """Return what arrived within the timeout (possibly nothing)."""
        try:
            waiting = self._port.in_waiting
            data: bytes = self._port.read(max(1, min(size, waiting or 1)))
            if waiting > 1 and len(data) < waiting:
                data += self._port.read(min(size, waiting) - len(data))
            return data
        except (serial.SerialException, OSError) as exc:
            raise PortError(f"read from {self.url} failed: {exc}") from exc

    def write(self, data: bytes) -> None:
        """Send bytes (polls for command-mode protocols)."""
        try:
            self._port.write(data)
        except (serial.SerialException, OSError) as exc:
            raise PortError(f"write to {self.url} failed: {exc}") from exc

    def close(self) -> None:
        """Close the port, ignoring errors from a port that is already gone."""
        try:
            self._port.close()
        except (serial.SerialException, OSError):
            pass
