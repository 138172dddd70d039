"""Grafana dashboards and alert rules as code (no issue has asked for panels yet)."""
