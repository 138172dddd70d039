"""Edge processes: talk to devices (scale over RS-232, fill sensors over MQTT) and nothing else."""
