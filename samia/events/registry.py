"""Event schemas: (name, version) -> the properties an event may carry, and their types.

Properties are IDs, numbers, flags and short codes: never personal data or free text.
A schema that names a personal field is refused when it is registered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
CODE = re.compile(r"^[A-Za-z0-9_.:\-]{0,64}$")

# Field names that would carry personal data or free text; no schema may declare them.
PERSONAL_FIELDS = frozenset(
    {
        "email",
        "phone",
        "phone_number",
        "name",
        "first_name",
        "last_name",
        "full_name",
        "address",
        "ip",
        "ip_address",
        "question",
        "text",
        "body",
        "message",
        "note",
        "notes",
        "comment",
        "password",
        "token",
        "otp",
        "date_of_birth",
        "birthday",
    }
)


class Code(str):
    """A short code: letters, digits and _.:- up to 64 characters (an enum value, a country, a channel)."""


ALLOWED_TYPES = (int, bool, Decimal, Code)


@dataclass(frozen=True)
class EventSchema:
    name: str
    version: int
    properties: dict[str, type]
    required: frozenset[str]

    def validate(self, properties: dict) -> dict:
        """Return the properties if they fit this schema; raise ValueError otherwise."""
        unknown = set(properties) - set(self.properties)
        if unknown:
            raise ValueError(f"{self.name} v{self.version}: unknown properties {sorted(unknown)}")
        missing = self.required - set(properties)
        if missing:
            raise ValueError(f"{self.name} v{self.version}: missing properties {sorted(missing)}")
        clean = {}
        for key, value in properties.items():
            kind = self.properties[key]
            if value is None:
                clean[key] = None
            elif kind is Code:
                if not isinstance(value, str) or not CODE.match(value):
                    raise ValueError(f"{self.name}.{key}: a short code is expected")
                clean[key] = value
            elif kind is bool:
                if not isinstance(value, bool):
                    raise ValueError(f"{self.name}.{key}: a boolean is expected")
                clean[key] = value
            elif kind is int:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(f"{self.name}.{key}: an integer is expected")
                clean[key] = value
            elif kind is Decimal:
                if isinstance(value, bool) or not isinstance(value, int | Decimal):
                    raise ValueError(f"{self.name}.{key}: a decimal is expected")
                clean[key] = str(value)
        return clean


SCHEMAS: dict[tuple[str, int], EventSchema] = {}


def register(name: str, version: int, /, *, required: tuple[str, ...] = (), **properties: type) -> EventSchema:
    """Register an event schema (call from an app's event_schemas.py)."""
    if not _NAME.match(name):
        raise ValueError(f"event names are dotted codes: {name!r}")
    if (name, version) in SCHEMAS:
        raise ValueError(f"{name} v{version} is registered twice")
    for key, kind in properties.items():
        if key.lower() in PERSONAL_FIELDS:
            raise ValueError(f"{name}: {key!r} would carry personal data")
        if kind not in ALLOWED_TYPES:
            raise ValueError(f"{name}.{key}: {kind!r} is not an allowed type (int, bool, Decimal, Code)")
    if not set(required) <= set(properties):
        raise ValueError(f"{name}: required properties must be declared")
    schema = EventSchema(name, version, dict(properties), frozenset(required))
    SCHEMAS[(name, version)] = schema
    return schema


def schema_for(name: str, version: int) -> EventSchema:
    """Return the schema of event `name` v`version`, or raise ValueError for an unknown one."""
    try:
        return SCHEMAS[(name, version)]
    except KeyError:
        raise ValueError(f"unknown event {name} v{version}") from None
