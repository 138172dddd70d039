"""Ingest's own part of the container domain: the per-container tracker, the `reading`
processor and the alert texts. The shared domain (spec, geometry, forecast, schedule, status)
is landfill/fill/."""
