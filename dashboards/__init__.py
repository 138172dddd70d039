"""Grafana dashboards and alert rules as code (InfluxQL), their provisioning files and tools.

`boards.py` holds the five dashboards as data and `alerts.py` the alert rules; `panels.py` and
`render.py` build Grafana's JSON with the foundation SDK's builders and write the committed
files under `dashboards/generated/<language>/` (ky, ru, en; the words are the one catalogue's,
`landfill/i18n/dashboards/`, read by `texts.py`). `push.py` sends them to a Grafana over its
HTTP API, `preview.py` draws them as static SVG for people without Grafana, and
`templating.py` substitutes variables as Grafana does, so tests run the real statements.
"""
