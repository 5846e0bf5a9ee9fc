"""Row conditions that compile both to Postgres policy SQL and to Django Q objects.

Each condition is written once in an app's policies.py; `sql()` goes into
CREATE POLICY, `q(identity)` scopes the matching querysets. Identity helpers are
wrapped as `(select ...)` so Postgres evaluates them once per statement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Q
from django.utils import timezone

ACTOR_ID_SQL = "(select samia.actor_id())"

# The earliest and latest calendar dates in use anywhere on Earth right now.
EARLIEST_ZONE = "Etc/GMT+12"
LATEST_ZONE = "Etc/GMT-14"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return "'" + text.replace("'", "''") + "'"


def _model_of(table: str):
    """Return the installed model stored in `table` (the registry depends on this module, not the reverse)."""
    for model in apps.get_models():
        if model._meta.db_table == table:
            return model
    raise LookupError(f"no installed model uses the table {table}")


def dates_in_use(now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """Return the earliest and latest local dates on Earth at `now`."""
    from zoneinfo import ZoneInfo

    now = now or timezone.now()
    return now.astimezone(ZoneInfo(EARLIEST_ZONE)).date(), now.astimezone(ZoneInfo(LATEST_ZONE)).date()


class Condition:
    def sql(self) -> str:
        raise NotImplementedError

    def q(self, identity) -> Q:
        raise NotImplementedError

    def admits(self, column: str, value: Any) -> bool:
        """Tell whether some row with `column = value` could satisfy this condition."""
        return True

    def __and__(self, other: Condition) -> Condition:
        return All((self, other))

    def __or__(self, other: Condition) -> Condition:
        return Any_((self, other))


@dataclass(frozen=True)
class Always(Condition):
    def sql(self) -> str:
        return "true"

    def q(self, identity) -> Q:
        # Not Q(): an empty Q vanishes when OR-ed with another condition.
        return Q(pk__isnull=False)


@dataclass(frozen=True)
class Mine(Condition):
    """The row's `column` holds the caller's user id."""

    column: str

    def sql(self) -> str:
        return f"({self.column} = {ACTOR_ID_SQL})"

    def q(self, identity) -> Q:
        return Q(**{self.column: identity.user_id})


@dataclass(frozen=True)
class Equals(Condition):
    column: str
    value: Any

    def sql(self) -> str:
        return f"({self.column} = {_literal(self.value)})"

    def q(self, identity) -> Q:
        return Q(**{self.column: self.value})

    def admits(self, column: str, value: Any) -> bool:
        return column != self.column or value == self.value


@dataclass(frozen=True)
class OneOf(Condition):
    column: str
    values: tuple

    def sql(self) -> str:
        return f"({self.column} = ANY (ARRAY[{', '.join(_literal(v) for v in self.values)}]))"

    def q(self, identity) -> Q:
        return Q(**{f"{self.column}__in": list(self.values)})

    def admits(self, column: str, value: Any) -> bool:
        return column != self.column or value in self.values


@dataclass(frozen=True)
class IsNull(Condition):
    column: str

    def sql(self) -> str:
        return f"({self.column} IS NULL)"

    def q(self, identity) -> Q:
        return Q(**{f"{self.column}__isnull": True})


@dataclass(frozen=True)
class DateInUse(Condition):
    """The row's date is "today" somewhere on Earth, or up to `days_back` days before."""

    column: str
    days_back: int = 0

    def sql(self) -> str:
        low = f"(now() AT TIME ZONE '{EARLIEST_ZONE}')::date"
        if self.days_back:
            low = f"({low} - {int(self.days_back)})"
        high = f"(now() AT TIME ZONE '{LATEST_ZONE}')::date"
        return f"(({self.column} >= {low}) AND ({self.column} <= {high}))"

    def q(self, identity) -> Q:
        earliest, latest = dates_in_use()
        return Q(**{f"{self.column}__gte": earliest - dt.timedelta(days=self.days_back), f"{self.column}__lte": latest})


@dataclass(frozen=True)
class Via(Condition):
    """The row's `column` matches `target_column` of a row of `target` that satisfies `condition`.

    `target_column` is the referenced row's id by default; another column follows a relation the
    other way (an asset's id found in the `asset_id` of a link that satisfies the condition).
    """

    column: str
    target: str  # table name of the referenced model
    condition: Condition
    target_column: str = "id"

    def sql(self) -> str:
        return f"({self.column} IN (SELECT {self.target_column} FROM {self.target} WHERE {self.condition.sql()}))"

    def q(self, identity) -> Q:
        values = _model_of(self.target).objects.filter(self.condition.q(identity)).values(self.target_column)
        return Q(**{f"{self.column}__in": values})


@dataclass(frozen=True)
class All(Condition):
    parts: tuple

    def sql(self) -> str:
        return "(" + " AND ".join(p.sql() for p in self.parts) + ")"

    def q(self, identity) -> Q:
        result = Q()
        for part in self.parts:
            result &= part.q(identity)
        return result

    def admits(self, column: str, value: Any) -> bool:
        return all(p.admits(column, value) for p in self.parts)


@dataclass(frozen=True)
class Any_(Condition):
    parts: tuple

    def sql(self) -> str:
        return "(" + " OR ".join(p.sql() for p in self.parts) + ")"

    def q(self, identity) -> Q:
        result = self.parts[0].q(identity)
        for part in self.parts[1:]:
            result |= part.q(identity)
        return result

    def admits(self, column: str, value: Any) -> bool:
        return any(p.admits(column, value) for p in self.parts)


@dataclass(frozen=True)
class FeatureOn(Condition):
    """Every row while the feature switch `name` is on, none while it is off (samia.feature_on, a waffle switch).

    samia.feature_on is compiled from waffle_switch on every change and inlined by the planner: the
    initPlan costs a sequence read, not a query (samia/features/sql.py).
    """

    name: str

    def sql(self) -> str:
        return f"(select samia.feature_on({_literal(self.name)}))"

    def q(self, identity) -> Q:
        from django.db.models import BooleanField
        from django.db.models.expressions import RawSQL

        # The policy's own initPlan inside the query: all rows or none, with no round trip of its own.
        # RawSQL is safe here: the text is the policy's, a declared switch name quoted by _literal, never input.
        return Q(RawSQL(self.sql(), (), output_field=BooleanField()))  # noqa: S611
