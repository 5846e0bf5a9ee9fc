"""Compact server events (M23): emit() validates against the schema registry and appends to events_raw."""
