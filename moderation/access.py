"""Route access narrowed by a column value, derived from the same declaration as the table's policies."""

from __future__ import annotations

from dataclasses import dataclass

from samia.rls.registry import PERSONAS, TableDeclaration, declaration_for


@dataclass(frozen=True)
class InsertsRow:
    """The route inserts a row of `table` whose `column` is `value`; whoever the insert rules admit may call it."""

    table: str
    column: str
    value: str
    operation: str = "insert"

    @property
    def declaration(self) -> TableDeclaration:
        return declaration_for(self.table)

    def roles(self) -> frozenset[str]:
        return frozenset(
            persona
            for persona in PERSONAS
            for rule in self.declaration.rules_for("insert", persona)
            if (rule.check or rule.using).admits(self.column, self.value)
        )
