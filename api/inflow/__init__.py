"""Landfill inflow and the council's monthly report: tonnage from InfluxDB, pages, PDF, CSV."""
