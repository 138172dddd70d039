"""Truck scale indicator driver: frames (pure), stream buffer, stability, reader (serial)."""
