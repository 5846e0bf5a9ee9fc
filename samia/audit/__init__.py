"""Append-only, hash-chained audit trail (kernel, used by every app)."""
