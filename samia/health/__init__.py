"""Liveness and readiness probes: the checks in `checks.py`, the routes in `apis.py`."""
