"""A share of one unit of database work on a second connection, committed only when the caller's share succeeded.

Postgres runs one statement on one core. Work that splits into independent shares (the activity half of a
rollup, one range of users of a campaign's schedule) can run a share on a thread of its own, which Django
gives a connection of its own, while the caller runs its share on its own connection. The companion's
transaction stays open until the caller hands over its verdict: `finish(commit=True)` commits it and
returns what the work returned (or raises what the work raised, so the caller rolls back too);
`finish(commit=False)` rolls it back. Nothing the companion wrote is visible before then.

The caller's transaction commits after the companion's, so a failure of the caller's own COMMIT (a
deferred constraint, a lost connection) can leave the companion's share committed alone: work that
splits this way says what it does then (campaign scheduling starts a draft's schedule afresh,
analytics rollups re-run the day range).

A companion runs as the caller does: bound to `identity` (samia.rls.binding.bound) when one is given,
otherwise with the connection's own login role (the service role of jobs and commands). It reads only
what is committed: a caller whose transaction wrote what the work needs must not hand it out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection, connections, transaction


class _Withdrawn(Exception):
    """The caller's share failed: the companion rolls back."""


class Companion:
    """Run `work(cursor)` in a transaction on a thread of its own, until the caller's verdict."""

    def __init__(self, work: Callable[[Any], Any], *, identity=None, name: str = "db-companion"):
        self._work = work
        self._identity = identity
        self._verdict = threading.Event()
        self._worked = threading.Event()
        self._commit = False
        self._result: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _scope(self):
        if self._identity is None:
            return transaction.atomic()
        from samia.rls.binding import bound

        return bound(self._identity)

    def _run(self) -> None:
        try:
            with self._scope(), connection.cursor() as cursor:
                self._result = self._work(cursor)
                self._worked.set()
                self._verdict.wait()
                if not self._commit:
                    raise _Withdrawn
        except _Withdrawn:
            pass
        except BaseException as error:  # handed to the caller by finish()
            self._error = error
        finally:
            self._worked.set()
            connections.close_all()  # this thread's connections only

    def failed(self) -> BaseException | None:
        """Wait until the work has run (not for the verdict); return what it raised, if anything."""
        self._worked.wait()
        return self._error

    def finish(self, *, commit: bool) -> Any:
        """Hand over the verdict, wait for the thread; on commit, return the work's result or raise its error."""
        self._commit = commit
        self._verdict.set()
        self._thread.join()
        if commit and self._error is not None:
            raise self._error
        return self._result if commit else None


def finish_all(companions: list[Companion], *, commit: bool) -> list[Any]:
    """Commit every companion, or none: first wait until all have run their work; if one failed, roll all
    back and raise its error. Only a COMMIT that fails itself can still leave the ones before it committed."""
    if commit:
        failure = next((error for error in (c.failed() for c in companions) if error is not None), None)
        if failure is not None:
            for companion in companions:
                companion.finish(commit=False)
            raise failure
    results, error = [], None
    for companion in companions:
        try:
            results.append(companion.finish(commit=commit and error is None))
        except BaseException as raised:
            error = error or raised
    if error is not None:
        raise error
    return results
