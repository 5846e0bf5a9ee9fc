"""Feature reads: whether a switch is on, and the switches an admin manages."""

from django.db import connection
from waffle.models import Switch

from samia.features.policies import SWITCHES
from samia.rls.registry import Identity

# The switches this project defines (a data migration creates them, off); nothing else is managed.
KNOWN = ("community", "community_public")


def feature_on(name: str) -> bool:
    """Return whether switch `name` is on, asking Postgres the question the policies ask."""
    # Not waffle.switch_is_active: its cache could answer differently from samia.feature_on for a
    # moment (a change made in SQL, a rolled-back save), and "off" must mean off at both enforcers.
    with connection.cursor() as cursor:
        cursor.execute("SELECT samia.feature_on(%s)", [name])
        return bool(cursor.fetchone()[0])


def feature_list(*, identity: Identity):
    """Return the project's switches `identity` may see, by name."""
    return SWITCHES.scope(Switch.objects.all(), identity).filter(name__in=KNOWN).order_by("name")


def feature_get(*, identity: Identity, name: str) -> Switch:
    """Return the switch `name` (a project switch `identity` may see), or raise Switch.DoesNotExist."""
    switch = feature_list(identity=identity).filter(name=name).first()
    if switch is None:
        raise Switch.DoesNotExist("No such feature.")
    return switch
