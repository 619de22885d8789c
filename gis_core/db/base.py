"""Django's PostGIS backend with a cheaper health check.

With conn_health_checks, Django checks a kept connection at the start of every request with a
`SELECT 1` round trip (a tenth of a one-grid WFS-T update's database time). A connection the server has
dropped (a restart, a terminated backend, a crash) has something to read on its socket: the server's
FATAL message or the end of the stream. An idle connection in good order has nothing to read, so a
socket poll with no wait answers for it; only when something is there does the round trip decide."""

import select

from django.contrib.gis.db.backends.postgis.base import DatabaseWrapper as PostGISDatabaseWrapper
from psycopg.pq import TransactionStatus


class DatabaseWrapper(PostGISDatabaseWrapper):
    def is_usable(self):
        conn = self.connection
        if conn is None or conn.closed:
            return False
        # A transaction a failed statement aborted answers SELECT 1 with an error, which is how Django's
        # check says "not usable" (its test teardown relies on it): libpq knows that without asking.
        if conn.info.transaction_status == TransactionStatus.INERROR:
            return False
        try:
            readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
        except Exception:  # noqa: BLE001 - no socket left: not usable
            return False
        if not readable:
            return True
        return super().is_usable()
