"""Truck scale edge: reader (serial), weighing (stability), service, simulator.

The pure layer (frames, stream buffer, protocols) is `landfill/scale/`.
"""
