import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from samia.events import registry
from samia.events.services import emit, next_month_partition_missing, partitions, partitions_maintain
from samia.rls import catalog
from samia.rls.binding import bound
from samia.rls.registry import Identity
from tests.conftest import rows_as

pytestmark = pytest.mark.django_db

ORDER_PROPERTIES = {"service": "tarot", "gold": False, "to_status": "new"}


def _events():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, version, actor_id, actor_key, subject_type, subject_id, properties, tableoid::regclass::text "
            "FROM events_raw ORDER BY id"
        )
        return [(*row[:6], json.loads(row[6]), row[7]) for row in cursor.fetchall()]


def test_it_appends_a_valid_event_in_the_callers_name(make_user):
    user = make_user()

    with bound(Identity(user.pk, "client")):
        emit(
            "order.created",
            1,
            actor=Identity(user.pk, "client"),
            subject=("marketplace.order", 7),
            properties=ORDER_PROPERTIES,
        )

    [(name, version, actor_id, key, subject_type, subject_id, properties, partition)] = _events()
    assert (name, version, actor_id, key, subject_type, subject_id) == (
        "order.created",
        1,
        user.pk,
        "",
        "marketplace.order",
        7,
    )
    assert properties == {"service": "tarot", "gold": False, "to_status": "new"}
    assert partition == f"events_raw_{dt.datetime.now(dt.UTC):%Y_%m}"


@pytest.mark.parametrize(
    ("name", "properties", "message"),
    [
        ("order.exploded", ORDER_PROPERTIES, "unknown event"),
        ("order.created", {**ORDER_PROPERTIES, "email": "a@b.com"}, "unknown properties"),
        ("order.created", {"service": "tarot"}, "missing properties"),
        ("order.created", {**ORDER_PROPERTIES, "gold": "yes"}, "boolean"),
        ("order.created", {**ORDER_PROPERTIES, "service": "free text, with spaces"}, "short code"),
        ("order.created", {**ORDER_PROPERTIES, "reader_id": True}, "integer"),
    ],
)
def test_it_rejects_events_outside_their_schema(name, properties, message):
    with pytest.raises(ValueError, match=message):
        emit(name, 1, actor=None, properties=properties)
    assert _events() == []


@pytest.mark.parametrize("field", sorted(registry.PERSONAL_FIELDS))
def test_no_schema_can_declare_a_personal_field(field):
    with pytest.raises(ValueError, match="personal data"):
        registry.register("test.personal", 1, **{field: registry.Code})


def test_no_registered_schema_admits_personal_data_or_free_text():
    assert registry.SCHEMAS
    for schema in registry.SCHEMAS.values():
        assert not {k.lower() for k in schema.properties} & registry.PERSONAL_FIELDS, schema.name
        assert set(schema.properties.values()) <= set(registry.ALLOWED_TYPES), schema.name
    with pytest.raises(ValueError, match="allowed type"):
        registry.register("test.free_text", 1, remark=str)
    with pytest.raises(ValueError, match="allowed type"):
        registry.register("test.float", 1, amount=float)


def test_decimals_are_kept_exact():
    registry.SCHEMAS.pop(("test.money", 1), None)
    registry.register("test.money", 1, amount=Decimal)
    try:
        emit("test.money", 1, properties={"amount": Decimal("10.10")})
    finally:
        registry.SCHEMAS.pop(("test.money", 1))

    assert _events()[0][6] == {"amount": "10.10"}


def test_an_anonymous_caller_is_stored_as_a_keyed_hash(db):
    with bound(Identity(None, None)):
        emit("app.session", 1, anonymous_key="device-1234", properties={"platform": "ios"})

    [(_, _, actor_id, key, *_)] = _events()
    assert actor_id is None
    assert len(key) == 32 and "device" not in key


def test_nobody_but_admins_reads_raw_events_and_nobody_writes_in_anothers_name(personas):
    emit("app.session", 1, actor=Identity(personas["client"].pk, "client"), properties={})

    assert rows_as(Identity(personas["client"].pk, "client"), "SELECT count(*) FROM events_raw")[0][0] == 0
    assert rows_as(Identity(personas["admin"].pk, "admin"), "SELECT count(*) FROM events_raw")[0][0] == 1
    with pytest.raises(DatabaseError), transaction.atomic(), bound(Identity(personas["client"].pk, "client")):
        emit("app.session", 1, actor=Identity(personas["other_client"].pk, "client"), properties={})


def test_the_app_role_cannot_reach_a_partition_directly(personas):
    partition = partitions()[-1][0]

    with pytest.raises(DatabaseError), transaction.atomic():
        rows_as(Identity(personas["admin"].pk, "admin"), f"SELECT count(*) FROM {partition}")


def test_rls_check_flags_a_grant_on_a_partition():
    partition = partitions()[-1][0]
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT SELECT ON {partition} TO samia_app")

    assert any(partition in problem for problem in catalog.check())


def test_it_keeps_partitions_ahead_and_drops_expired_ones(settings):
    settings.EVENTS_RAW_RETENTION_DAYS = 180
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE events_raw_2020_01 PARTITION OF events_raw "
            "FOR VALUES FROM ('2020-01-01 00:00:00+00') TO ('2020-02-01 00:00:00+00')"
        )
    before = [name for name, _ in partitions()]

    result = partitions_maintain(months_ahead=3)
    again = partitions_maintain(months_ahead=3)

    after = [name for name, _ in partitions()]
    assert result["dropped"] == ["events_raw_2020_01"]
    assert set(before) - {"events_raw_2020_01"} <= set(after)
    assert result["created"] == 1  # the third month ahead
    assert again == {"created": 0, "dropped": []}
    assert next_month_partition_missing() is None


def test_readiness_fails_when_next_months_partition_is_missing():
    missing = next_month_partition_missing(dt.datetime.now(dt.UTC))
    assert missing is None
    first = dt.date.today().replace(day=1)
    next_month = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE events_raw_{next_month:%Y_%m}")

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["event_partitions"] == f"missing events_raw_{next_month:%Y_%m}"
