"""Ingest: consume contract messages, derive fill levels and alerts, write InfluxDB."""
