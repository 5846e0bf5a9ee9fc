"""Recompute the audit chain and name the first damage: modified, deleted, inserted or reordered rows,
or a tail truncated behind the last checkpoint. Works on the live table or on exported rows."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

ZERO_HASH = "0" * 64
# The columns each row repeats from its payload. In the live table Postgres generates them from the
# payload (GENERATED ALWAYS AS ... STORED), so they cannot disagree with it and only hashes and links
# need checking; selectors.chain_verify() checks the table definition still says so.
PAYLOAD_COLUMNS = (
    "action",
    "actor_id",
    "actor_role",
    "details",
    "family",
    "occurred_at",
    "outcome",
    "request_id",
    "target_id",
    "target_type",
)


class Row(NamedTuple):
    """One chained row. `problem` is a disagreement the reader of the row already found (the live table
    compares its columns with the payload only when their definition was altered)."""

    seq: int
    prev_hash: str
    row_hash: str
    payload: str
    problem: str | None = None


@dataclass(frozen=True)
class Damage:
    seq: int
    kind: str  # modified | deleted | inserted | reordered | truncated
    detail: str

    def __str__(self):
        return f"first bad seq {self.seq}: {self.kind} ({self.detail})"


@dataclass(frozen=True)
class Report:
    rows: int
    first_seq: int | None
    last_seq: int | None
    head_hash: str | None
    damage: Damage | None

    @property
    def ok(self) -> bool:
        return self.damage is None


def row_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def _consistent(row: Row) -> str | None:
    """Return why a row disagrees with itself, or None."""
    if row_hash(row.prev_hash, row.payload) != row.row_hash:
        return "its hash does not match its payload"
    return row.problem


def _break_kind(row: Row, following: Row | None, expected_prev: str, before_prev: str | None) -> Damage:
    """Name the damage where `row` does not link to the row before it."""
    if following is not None and following.row_hash == row.prev_hash:
        return Damage(row.seq, "reordered", "the row links to the one after it")
    if following is not None and following.prev_hash == expected_prev:
        return Damage(row.seq, "inserted", "the next row links past this one")
    if before_prev is not None and row.prev_hash == before_prev:
        return Damage(row.seq - 1, "inserted", "the row after it links past it")
    return Damage(row.seq, "deleted", "the row before it in the chain is missing")


def verify(
    rows: Iterable[Row],
    *,
    anchor: tuple[int, str] | None = None,
    checkpoint: tuple[int, str] | None = None,
) -> Report:
    """Walk `rows` in seq order from `anchor` (seq, hash) or the genesis, against the last signed checkpoint."""
    expected_seq, expected_prev = (anchor[0] + 1, anchor[1]) if anchor else (1, ZERO_HASH)
    checkpoint_seq = checkpoint[0] if checkpoint is not None else None
    before_prev = None
    count, first, last, head, hash_at_checkpoint = 0, None, None, None, None
    damage = None
    sha256 = hashlib.sha256
    iterator = iter(rows)
    # The hot loop: one hash and a few comparisons per row; the slow diagnosis runs only at a break.
    for row in iterator:
        seq, prev_hash, stored_hash, payload, problem = row
        count += 1
        if first is None:
            first = seq
        if sha256((prev_hash + payload).encode()).hexdigest() != stored_hash or problem:
            reason = _consistent(row)
            if reason:
                damage = Damage(seq, "modified", reason)
                break
        if seq != expected_seq:
            if seq > expected_seq:
                damage = Damage(expected_seq, "deleted", f"seq {expected_seq} to {seq - 1} are missing")
            else:
                damage = Damage(seq, "reordered", f"seq {seq} comes after seq {expected_seq - 1}")
            break
        if prev_hash != expected_prev:
            damage = _break_kind(row, next(iterator, None), expected_prev, before_prev)
            break
        if seq == checkpoint_seq:
            hash_at_checkpoint = stored_hash
        before_prev, expected_seq, expected_prev = expected_prev, seq + 1, stored_hash
        last, head = seq, stored_hash
    if damage is None and checkpoint is not None:
        checkpoint_hash = checkpoint[1]
        covered_by_anchor = anchor is not None and anchor[0] >= checkpoint_seq
        if not covered_by_anchor and (last is None or last < checkpoint_seq):
            damage = Damage(
                (last or 0) + 1,
                "truncated",
                f"the last signed checkpoint covers seq {checkpoint_seq}, the chain ends at {last}",
            )
        elif not covered_by_anchor and hash_at_checkpoint != checkpoint_hash:
            damage = Damage(checkpoint_seq, "modified", "the row at the checkpoint does not carry the signed hash")
    return Report(rows=count, first_seq=first, last_seq=last, head_hash=head, damage=damage)
