"""The container domain shared by ingest and api: spec, geometry, forecast, state, schedule, status.

Pure: no I/O, no settings; the time zone is passed in. Nothing here imports a process package.
"""
