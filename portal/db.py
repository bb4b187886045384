"""The database engine of an app and the per-request session."""
from __future__ import annotations

from flask import current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from portal import page_cache


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def copy_rows(session: Session, table: str, columns: tuple[str, ...], rows) -> None:
    """Write many rows into ``table`` with PostgreSQL's ``COPY ... FROM STDIN`` on the session's
    own connection (same transaction): the fastest way in, for bulk writes such as an import.
    Values as psycopg adapts them; JSON columns as their JSON text."""
    connection = session.connection()
    page_cache.mark_written(connection)  # COPY passes SQLAlchemy's cursor events
    copy_raw(connection.connection.dbapi_connection, table, columns, rows)


def copy_raw(dbapi_connection, table: str, columns: tuple[str, ...], rows) -> None:
    """:func:`copy_rows` on the driver's connection itself (for a thread that must not touch the
    session); the caller marks the write for the page cache."""
    cursor = dbapi_connection.cursor()
    try:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                write(row)
    finally:
        cursor.close()


COPY_NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_escape(value: str) -> str:
    """A text value as COPY's text format writes it (backslash, tab, newline, return escaped)."""
    return value.translate(_COPY_ESCAPES)


def copy_line(values) -> str:
    """A row as a line of COPY text: None as NULL, anything else as ``str`` writes it (numbers,
    dates and times as PostgreSQL reads them), escaped."""
    return "\t".join(COPY_NULL if value is None else str(value).translate(_COPY_ESCAPES) for value in values) + "\n"


def init_app(app) -> None:
    app.extensions["portal.engine"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    return current_app.extensions["portal.engine"]


def session() -> Session:
    """The session of this request (or app context); closed when the context ends."""
    if "db_session" not in g:
        g.db_session = Session(engine(), expire_on_commit=False)
    return g.db_session


def _close_session(_exc=None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
