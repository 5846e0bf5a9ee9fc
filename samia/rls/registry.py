"""The RLS declarations: who may do what to which rows, declared once per table.

Each app's policies.py calls `declare()` for its tables and `framework()` for
tables that deliberately run without row-level security. One declaration
compiles to the Postgres policies and grants (applied by migrations) and to
the API guards and queryset scoping.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import QuerySet

from samia.rls.conditions import Always, Condition

APP_ROLE = "samia_app"
ROLES = ("client", "reader", "monitor", "admin", "superadmin")
ANONYMOUS = "anonymous"
PERSONAS = (*ROLES, ANONYMOUS)
PUBLIC = "public"  # a rule for everyone, identity or not
STAFF = ("monitor", "admin", "superadmin")
ADMINS = ("admin", "superadmin")
OPERATIONS = ("select", "insert", "update", "delete")
COMMANDS = {"select": "SELECT", "insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}


@dataclass(frozen=True)
class Identity:
    user_id: int | None
    role: str | None

    @property
    def persona(self) -> str:
        return self.role if self.user_id is not None and self.role else ANONYMOUS

    @classmethod
    def of(cls, user) -> Identity:
        if user is None or not getattr(user, "is_authenticated", False):
            return ANONYMOUS_IDENTITY
        return cls(user.pk, user.role)


ANONYMOUS_IDENTITY = Identity(None, None)


@dataclass(frozen=True)
class Rule:
    operation: str
    roles: tuple[str, ...]
    using: Condition = field(default_factory=Always)
    check: Condition | None = None

    def __post_init__(self):
        if self.operation not in OPERATIONS:
            raise ValueError(f"unknown operation {self.operation!r}")
        for role in self.roles:
            if role not in (*ROLES, PUBLIC):
                raise ValueError(f"unknown role {role!r}")


def allow(operation: str, roles, using: Condition | None = None, check: Condition | None = None) -> Rule:
    """Declare that `roles` may perform `operation` on rows matching `using` (and `check` for new rows)."""
    roles = (roles,) if isinstance(roles, str) else tuple(roles)
    return Rule(operation, roles, using or Always(), check)


@dataclass(frozen=True)
class Policy:
    """One compiled Postgres policy: one table, one command, one role (or public)."""

    table: str
    name: str
    operation: str
    role: str
    using: str | None
    check: str | None

    def sql(self) -> str:
        parts = [
            f'CREATE POLICY "{self.name}" ON {self.table} AS PERMISSIVE FOR {COMMANDS[self.operation]} TO {APP_ROLE}'
        ]
        if self.using is not None:
            parts.append(f"USING ({self.using})")
        if self.check is not None:
            parts.append(f"WITH CHECK ({self.check})")
        return " ".join(parts) + ";"


@dataclass
class TableDeclaration:
    table: str
    model_label: str
    rules: tuple[Rule, ...]
    app_label: str

    @property
    def model(self):
        return apps.get_model(self.model_label)

    def rules_for(self, operation: str, persona: str) -> list[Rule]:
        return [r for r in self.rules if r.operation == operation and (persona in r.roles or PUBLIC in r.roles)]

    def roles_for(self, operation: str) -> frozenset[str]:
        """Personas (roles, or anonymous) that this declaration lets perform `operation` on some rows."""
        return frozenset(p for p in PERSONAS if self.rules_for(operation, p))

    def operations(self) -> list[str]:
        return [op for op in OPERATIONS if any(r.operation == op for r in self.rules)]

    def policies(self) -> list[Policy]:
        result = []
        for operation in self.operations():
            grantees = [PUBLIC] if any(PUBLIC in r.roles for r in self.rules if r.operation == operation) else []
            grantees += [role for role in ROLES if any(role in r.roles for r in self.rules if r.operation == operation)]
            for grantee in grantees:
                rules = [r for r in self.rules if r.operation == operation and grantee in r.roles]
                using = _any_sql([r.using for r in rules])
                check = _any_sql([r.check or r.using for r in rules])
                if grantee != PUBLIC:
                    role_test = f"((select samia.actor_role()) = '{grantee}')"
                    using = f"({role_test} AND {using})"
                    check = f"({role_test} AND {check})"
                result.append(
                    Policy(
                        table=self.table,
                        name=f"{operation}_{grantee}",
                        operation=operation,
                        role=grantee,
                        using=None if operation == "insert" else using,
                        check=check if operation in ("insert", "update") else None,
                    )
                )
        return result

    def scope(self, queryset: QuerySet, identity: Identity, operation: str = "select") -> QuerySet:
        """Filter `queryset` to the rows the declaration lets `identity` act on."""
        rules = self.rules_for(operation, identity.persona)
        if not rules:
            return queryset.none()
        if any(isinstance(rule.using, Always) for rule in rules):
            return queryset
        condition = rules[0].using.q(identity)
        for rule in rules[1:]:
            condition |= rule.using.q(identity)
        return queryset.filter(condition)

    def get(self, queryset: QuerySet, identity: Identity, pk, *, operation: str = "select", missing: str = ""):
        """Return the row `pk` of `queryset` that `identity` may act on, or raise the model's DoesNotExist.

        The error says "No such <model>." (or `missing`) whether the row is absent or hidden,
        so existence does not leak.
        """
        try:
            return self.scope(queryset, identity, operation).get(pk=pk)
        except queryset.model.DoesNotExist:
            message = missing or f"No such {queryset.model._meta.verbose_name}."
            raise queryset.model.DoesNotExist(message) from None

    def columns(self) -> set[str]:
        """Columns that this table's policies filter existing rows on (WITH CHECK needs no index)."""
        found: set[str] = set()
        for rule in self.rules:
            if rule.operation != "insert":
                _collect_columns(rule.using, found)
        return found

    def sql(self) -> str:
        lines = [
            f"ALTER TABLE {self.table} ENABLE ROW LEVEL SECURITY;",
            f"SELECT samia.reset_table_access('{self.table}');",
        ]
        operations = self.operations()
        if operations:
            lines.append(f"GRANT {', '.join(COMMANDS[o] for o in operations)} ON {self.table} TO {APP_ROLE};")
        lines += [p.sql() for p in self.policies()]
        return "\n".join(lines)


@dataclass
class FrameworkTable:
    """A table that runs without RLS on purpose; `reason` says why, `grants` what the app role may do."""

    table: str
    reason: str
    app_label: str
    grants: tuple[str, ...] = ()

    def sql(self) -> str:
        lines = [
            f"SELECT samia.reset_table_access('{self.table}');",
            f"ALTER TABLE {self.table} DISABLE ROW LEVEL SECURITY;",
        ]
        if self.grants:
            lines.append(f"GRANT {', '.join(COMMANDS[o] for o in self.grants)} ON {self.table} TO {APP_ROLE};")
        return "\n".join(lines)


def _any_sql(conditions: list[Condition]) -> str:
    if len(conditions) == 1:
        return conditions[0].sql()
    return "(" + " OR ".join(c.sql() for c in conditions) + ")"


def _collect_columns(condition, found: set[str]) -> None:
    if condition is None:
        return
    if hasattr(condition, "parts"):
        for part in condition.parts:
            _collect_columns(part, found)
    elif hasattr(condition, "column"):
        found.add(condition.column)


DECLARATIONS: dict[str, TableDeclaration] = {}
FRAMEWORK: dict[str, FrameworkTable] = {}


def _app_label_of(module_name: str) -> str:
    for config in apps.get_app_configs():
        if module_name == config.name or module_name.startswith(config.name + "."):
            return config.label
    raise LookupError(f"{module_name} is not inside an installed app")


def declare(model_label: str, *rules: Rule, module: str) -> TableDeclaration:
    """Register the declaration for the table of `model_label` (call from an app's policies.py)."""
    table = apps.get_model(model_label)._meta.db_table
    if table in DECLARATIONS or table in FRAMEWORK:
        raise ValueError(f"{table} is declared twice")
    declaration = TableDeclaration(table, model_label, tuple(rules), _app_label_of(module))
    DECLARATIONS[table] = declaration
    return declaration


def framework(table: str, reason: str, *, module: str, grants: tuple[str, ...] = ()) -> FrameworkTable:
    """Register a table that runs without RLS, with the reason."""
    if table in DECLARATIONS or table in FRAMEWORK:
        raise ValueError(f"{table} is declared twice")
    entry = FrameworkTable(table, reason, _app_label_of(module), tuple(grants))
    FRAMEWORK[table] = entry
    return entry


def declaration_for(table_or_model) -> TableDeclaration:
    table = table_or_model if isinstance(table_or_model, str) else table_or_model._meta.db_table
    return DECLARATIONS[table]


def model_for_table(table: str):
    return DECLARATIONS[table].model


def app_sql(app_label: str) -> str:
    """Return the SQL that applies every declaration made by `app_label`."""
    blocks = [d.sql() for t, d in sorted(DECLARATIONS.items()) if d.app_label == app_label]
    blocks += [f.sql() for t, f in sorted(FRAMEWORK.items()) if f.app_label == app_label]
    return "\n\n".join(blocks)


def declaring_apps() -> list[str]:
    return sorted({d.app_label for d in DECLARATIONS.values()} | {f.app_label for f in FRAMEWORK.values()})
