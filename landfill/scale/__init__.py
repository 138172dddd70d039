"""Truck-scale indicator protocols, pure: frames, the stream buffer and the protocol catalogue.

No I/O, no settings, no broker: bytes in, readings out. The edge process (`edge/scale/`) adds
the serial port, the weighing state machine and publishing.
"""
