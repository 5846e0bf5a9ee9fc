"""What a route needs: the table operation it performs, derived from the declaration."""

from __future__ import annotations

from dataclasses import dataclass

from samia.rls.registry import PERSONAS, TableDeclaration, declaration_for


@dataclass(frozen=True)
class _OnTable:
    """Access to one declared table; the declaration decides who is admitted."""

    table: str

    @property
    def declaration(self) -> TableDeclaration:
        return declaration_for(self.table)


@dataclass(frozen=True)
class TableAccess(_OnTable):
    """The route performs `operation` on `table`; whoever the declaration admits may call it."""

    operation: str

    def roles(self) -> frozenset[str]:
        return self.declaration.roles_for(self.operation)


@dataclass(frozen=True)
class StateChange(_OnTable):
    """The route moves a row's `column` from one of `sources` to `target` (an UPDATE)."""

    column: str
    sources: tuple[str, ...]
    target: str
    operation: str = "update"

    def roles(self) -> frozenset[str]:
        admitted = set()
        for persona in PERSONAS:
            for rule in self.declaration.rules_for("update", persona):
                check = rule.check or rule.using
                if any(rule.using.admits(self.column, s) for s in self.sources) and check.admits(
                    self.column, self.target
                ):
                    admitted.add(persona)
        return frozenset(admitted)


@dataclass(frozen=True)
class InsertsRow(_OnTable):
    """The route inserts a row of `table` whose `column` is `value`; whoever the insert rules admit may call it."""

    column: str
    value: str
    operation: str = "insert"

    def roles(self) -> frozenset[str]:
        return frozenset(
            persona
            for persona in PERSONAS
            for rule in self.declaration.rules_for("insert", persona)
            if (rule.check or rule.using).admits(self.column, self.value)
        )


@dataclass(frozen=True)
class Open:
    """The route touches no declared table on the caller's behalf (login, schema, health)."""

    reason: str
    table: str | None = None
    operation: str | None = None

    def roles(self) -> frozenset[str]:
        return frozenset(PERSONAS)


def reads(table: str) -> TableAccess:
    return TableAccess(table, "select")


def writes(table: str, operation: str) -> TableAccess:
    return TableAccess(table, operation)
