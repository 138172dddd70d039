"""Deployment: local stack runner, broker and InfluxDB configs, compose file, systemd units."""
