"""Builders of the deterministic demo world that `manage.py seed_demo` writes."""
