"""(a) Role-level parity: for every route, the guard admits a role exactly when Postgres does."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import URLPattern, URLResolver, get_resolver

from samia.marketplace.states import ALL_TRANSITIONS, HELD
from samia.rls import catalog
from samia.rls.access import Open, StateChange, TableAccess
from samia.rls.binding import bound
from samia.rls.registry import PERSONAS, Identity
from tests import factories

pytestmark = pytest.mark.django_db

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _routes():
    """Yield (route, view class) for every API route; the back office is covered by test_admin."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    for route, callback in walk(get_resolver().url_patterns):
        if route.startswith("backoffice/"):
            continue
        yield route, getattr(callback, "view_class", None) or getattr(callback, "cls", None)


ROUTES = sorted(_routes(), key=lambda item: item[0])


def _methods(view_class):
    return [m for m in HTTP_METHODS if hasattr(view_class, m.lower())]


def test_it_declares_access_for_every_method_of_every_route():
    missing = []
    for route, view_class in ROUTES:
        access = getattr(view_class, "access", None) if view_class else None
        for method in _methods(view_class) if view_class else ["?"]:
            if access is None or method not in access:
                missing.append(f"{method} /{route}")
    assert missing == []


def _catalog_personas(table: str, operation: str) -> frozenset[str]:
    """The personas Postgres admits for (table, operation), read from the live catalog."""
    grants = catalog.catalog_grants(table)
    if operation not in grants:
        return frozenset()
    command = operation.upper()
    admitted = set()
    for policy in catalog.catalog_policies(table):
        if policy.command in (command, "ALL"):
            admitted |= policy.personas()
    return frozenset(admitted)


CASES = [
    (route, method, view_class.access[method])
    for route, view_class in ROUTES
    for method in _methods(view_class)
    if isinstance(view_class.access[method], TableAccess)
]


@pytest.mark.parametrize(("route", "method", "access"), CASES, ids=[f"{m} /{r}" for r, m, _ in CASES])
def test_it_admits_exactly_the_roles_the_catalog_admits(route, method, access):
    assert access.roles() == _catalog_personas(access.table, access.operation)


def test_it_leaves_only_declared_routes_open():
    open_routes = sorted(
        f"{method} /{route}"
        for route, view_class in ROUTES
        for method in _methods(view_class)
        if isinstance(view_class.access[method], Open)
    )
    assert open_routes == [
        "GET /admin/audit/public-key",
        "GET /api/docs/",
        "GET /api/redoc/",
        "GET /api/schema/",
        "GET /files/<str:token>",
        "GET /healthz",
        "GET /ops/prometheus",
        "GET /readyz",
        "POST /auth/appeal",
        "POST /auth/token",
        "POST /auth/token/refresh",
    ]


def _database_allows(identity: Identity, order_id: int, target: str, reader_id: int) -> bool:
    """Ask Postgres to make the change as `identity`; roll it back either way."""
    try:
        with transaction.atomic(), bound(identity), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE marketplace_order SET status = %s, reader_id = coalesce(reader_id, %s) WHERE id = %s",
                [target, reader_id if target == "assigned" else None, order_id],
            )
            changed = cursor.rowcount == 1
            transaction.set_rollback(True)
            return changed
    except DatabaseError:
        return False


TRANSITION_CASES = [(action, persona) for action in ALL_TRANSITIONS for persona in PERSONAS]


@pytest.mark.parametrize(("action", "persona"), TRANSITION_CASES)
def test_it_admits_a_transition_exactly_when_postgres_lets_the_role_make_it(action, persona, personas):
    # given an order in the transition's first source state, to which the client and reader personas are party
    transition = ALL_TRANSITIONS[action]
    source, target = transition.sources[0], transition.targets[0]
    reader = personas["reader"]
    order = factories.OrderFactory(
        client=personas["client"],
        reader=None if source == "new" else reader,
        status=source,
        held_from=target if source in HELD else "",  # a release returns where the order was held from
    )
    user = personas.get(persona)
    identity = Identity(user.pk, user.role) if user else Identity(None, None)

    # when Postgres is asked to make the change as that persona
    allowed = _database_allows(identity, order.pk, target, reader.pk)

    # then the guard says exactly the same, and both match the state machine's roles
    access = StateChange("marketplace_order", "status", tuple(transition.sources), target)
    assert (persona in access.roles()) == allowed
    assert access.roles() == frozenset(transition.roles)
