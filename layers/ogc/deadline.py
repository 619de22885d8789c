"""The database time one OGC request may spend in total (GRIDCITY_OGC_REQUEST_DB_MS), well below the
worker timeout. Each query of a GetFeature runs with the time left as its statement timeout (set
local to the query's transaction) and the request is refused once none is left, instead of running
on until the worker is killed. Only time spent waiting on the database counts, not the time a slow
client takes to read a streamed answer."""

import time
from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, connection, transaction

from .exceptions import OWSException

RETRY_AFTER_SECONDS = 10
QUERY_CANCELED = "57014"  # SQLSTATE of a statement stopped by statement_timeout
_END = object()


class DbBudget:
    def __init__(self, total_ms: int | None = None, clock=time.monotonic):
        self.total_ms = int(settings.GRIDCITY_OGC_REQUEST_DB_MS if total_ms is None else total_ms)
        self.clock = clock
        self.spent = 0.0  # seconds

    def remaining_ms(self) -> int:
        return int(self.total_ms - self.spent * 1000)

    def exceeded(self) -> OWSException:
        return OWSException(
            f"the request needs more than {self.total_ms} ms of database time: ask for fewer "
            "queries, fewer features or a smaller area",
            code="OperationProcessingFailed",
            locator="request",
            status=503,
            retry_after=RETRY_AFTER_SECONDS,
        )

    @contextmanager
    def timed(self):
        start = self.clock()
        try:
            yield
        finally:
            self.spent += self.clock() - start

    @contextmanager
    def queries(self):
        """A transaction whose statements each stop when the request's time is used up."""
        left = self.remaining_ms()
        if left <= 0:
            raise self.exceeded()
        ceiling = int(getattr(settings, "GRIDCITY_STATEMENT_TIMEOUT_MS", 0) or 0)
        timeout = max(1, min(left, ceiling) if ceiling > 0 else left)
        try:
            with transaction.atomic():
                with connection.cursor() as cur:
                    cur.execute("SELECT current_setting('statement_timeout')")
                    previous = cur.fetchone()[0]
                    cur.execute("SELECT set_config('statement_timeout', %s, true)", [f"{timeout}ms"])
                yield
                # Inside an outer transaction (tests) the local setting would outlive this block.
                with connection.cursor() as cur:
                    cur.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
        except OperationalError as exc:
            cause = exc.__cause__
            if (getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)) == QUERY_CANCELED:
                raise self.exceeded() from None
            raise

    def count(self, qs) -> int:
        with self.queries(), self.timed():
            return qs.count()

    def rows(self, rows):
        """The rows of a lazy query, the waits for the database counted, refused once over budget."""
        with self.queries():
            it = iter(rows)
            while True:
                with self.timed():
                    row = next(it, _END)
                if row is _END:
                    return
                if self.spent * 1000 > self.total_ms:
                    raise self.exceeded()
                yield row
