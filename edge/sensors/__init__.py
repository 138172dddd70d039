"""Container fill sensors: decode vendor uplinks into contract readings."""
