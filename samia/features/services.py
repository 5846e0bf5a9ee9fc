"""Feature writes: turn a switch on or off, with a reason, in the audit trail."""

from django.db import transaction
from waffle.models import Switch

from samia import audit
from samia.features import selectors
from samia.features.policies import SWITCHES
from samia.rls.registry import Identity


@transaction.atomic
def feature_set(*, identity: Identity, name: str, enabled: bool, reason: str) -> Switch:
    """Turn switch `name` on or off and audit it as features.switch.on|off; unknown names are absent."""
    switch = selectors.feature_get(identity=identity, name=name)
    switch = SWITCHES.get(Switch.objects.select_for_update(), identity, switch.pk, operation="update")
    previous = switch.active
    switch.active = enabled
    switch.save(update_fields=["active", "modified"])  # waffle flushes its cache once this commits
    audit.record(
        action=f"features.switch.{'on' if enabled else 'off'}",
        actor=identity,
        target=("waffle.switch", switch.name),
        details={"name": switch.name, "reason": reason, "was_on": previous},
    )
    return switch
