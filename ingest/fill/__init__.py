"""Container fill levels from distance readings: geometry, tracker state, alerts and forecasts."""
