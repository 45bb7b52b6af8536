"""Glance's WSGI app for gunicorn, with SQLite transactions started as BEGIN IMMEDIATE.

oslo.db opens SQLite transactions with a deferred BEGIN. Two requests that both read and then
write (parallel uploads) deadlock on the lock upgrade, and SQLite answers one of them at once
with "database is locked" (HTTP 500, image left queued/saving); a busy timeout does not help.
Taking the write lock at BEGIN makes them queue instead. scripts/servers.sh copies this file
into each Glance's etc/ and puts that on gunicorn's --pythonpath.
"""

from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "before_cursor_execute", retval=True)
def _begin_immediate(conn, cursor, statement, parameters, context, executemany):
    if conn.dialect.name == "sqlite" and statement.strip().upper() == "BEGIN":
        statement = "BEGIN IMMEDIATE"
    return statement, parameters


from glance.wsgi.api import application  # noqa: E402,F401  (reads OS_GLANCE_CONFIG_DIR)
