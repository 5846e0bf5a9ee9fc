"""Append-only, hash-chained audit trail (kernel, used by every app)."""


def record(**kwargs):
    """Append one audit entry in the current transaction (see samia.audit.services.record)."""
    from samia.audit.services import record as _record

    return _record(**kwargs)
