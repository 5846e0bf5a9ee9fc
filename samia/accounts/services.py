"""Writes on accounts made through the API."""

from django.db import transaction

from samia.accounts import policies
from samia.accounts.models import User
from samia.rls.registry import Identity


@transaction.atomic
def profile_update(*, identity: Identity, changes: dict) -> User:
    """Apply validated profile changes to the caller's own account (its sign is derived on save)."""
    user = policies.USERS.get(User.objects.all(), identity, identity.user_id, operation="update")
    for name, value in changes.items():
        setattr(user, name, value)
    user.save()
    return user
