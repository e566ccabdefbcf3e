"""One SQLite file for everything on one machine: records, the render queue, the
gallery and the shared counters. WAL mode lets the web process read while a render
subprocess writes; each thread keeps its own connection; the schema is made (and
extended) on first use."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

RENDERS = """
CREATE TABLE IF NOT EXISTS renders (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    scene_id TEXT,
    spec TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'dispatching', 'running', 'succeeded', 'failed', 'cancelled')),
    progress REAL NOT NULL DEFAULT 0,
    stage TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    runner TEXT,
    artifacts TEXT NOT NULL DEFAULT '{}',
    timings TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    dispatched_at TEXT,
    started_at TEXT,
    progress_at TEXT,
    finished_at TEXT,
    quota TEXT NOT NULL DEFAULT '[]',
    requested_preset TEXT,
    reel TEXT
);
"""
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    account INTEGER NOT NULL DEFAULT 0,
    email TEXT,
    name TEXT,
    publishing_blocked INTEGER NOT NULL DEFAULT 0,
    language TEXT,
    chat_scene TEXT,
    plan TEXT
);
CREATE TABLE IF NOT EXISTS plans (
    name TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scenes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS scenes_by_user ON scenes(user_id, updated_at);
CREATE TABLE IF NOT EXISTS books (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS books_by_user ON books(user_id, updated_at);
CREATE TABLE IF NOT EXISTS dialogue_turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scene_id TEXT NOT NULL REFERENCES scenes(id),
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL
);
{renders}CREATE INDEX IF NOT EXISTS renders_by_user ON renders(user_id, created_at);
CREATE INDEX IF NOT EXISTS renders_by_state ON renders(state);
CREATE TABLE IF NOT EXISTS publications (
    render_id TEXT PRIMARY KEY REFERENCES renders(id),
    data TEXT NOT NULL,
    listed INTEGER NOT NULL,
    sunk INTEGER NOT NULL,
    score INTEGER NOT NULL,
    published_at TEXT NOT NULL,
    book TEXT,
    author TEXT,
    style TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS publications_top ON publications(listed, sunk, score, published_at);
CREATE INDEX IF NOT EXISTS publications_new ON publications(listed, sunk, published_at);
CREATE TABLE IF NOT EXISTS votes (
    render_id TEXT NOT NULL REFERENCES publications(render_id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    value INTEGER NOT NULL CHECK (value IN (-1, 1)),
    PRIMARY KEY (render_id, user_id)
);
CREATE TABLE IF NOT EXISTS reports (
    render_id TEXT NOT NULL REFERENCES publications(render_id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    reason TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (render_id, user_id)
);
CREATE TABLE IF NOT EXISTS render_queue (
    render_id TEXT PRIMARY KEY REFERENCES renders(id),
    enqueued_at TEXT NOT NULL,
    claimed_at TEXT,
    claimed_by INTEGER,
    deliveries INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS counters_by_expiry ON counters(expires_at);
CREATE TABLE IF NOT EXISTS kept_requests (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    status INTEGER,
    body TEXT,
    PRIMARY KEY (user_id, key)
);
""".replace("{renders}", RENDERS)
# Columns added since a table was first made: a data folder from before gets them on open.
ADDED_COLUMNS = {
    "users": {
        "account": "INTEGER NOT NULL DEFAULT 0",
        "email": "TEXT",
        "name": "TEXT",
        "publishing_blocked": "INTEGER NOT NULL DEFAULT 0",
        "language": "TEXT",
        "chat_scene": "TEXT",
        "plan": "TEXT",
    },
    "reports": {"reason": "TEXT"},
    # What the gallery's search reads: the title, book and author normalised, " | " between.
    "publications": {"search": "TEXT NOT NULL DEFAULT ''"},
    "renders": {
        "runner": "TEXT",
        "progress_at": "TEXT",
        "quota": "TEXT NOT NULL DEFAULT '[]'",
        "requested_preset": "TEXT",
        "reel": "TEXT",
        "dispatched_at": "TEXT",
    },
    "render_queue": {"claimed_by": "INTEGER"},
}


class SqliteDatabase:
    """One SQLite file, a connection per thread, the schema created on first use."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    def connect(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # autocommit: each statement is its own transaction unless one is begun explicitly
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            connection.row_factory = sqlite3.Row
            _use_wal(connection)
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
            with self._schema_lock:
                if not self._schema_ready:
                    connection.executescript(SCHEMA)
                    _add_columns(connection)
                    _allow_cancelled(connection)
                    self._schema_ready = True
        return connection

    def check(self) -> None:
        """Takes the write lock and reads every table, then changes nothing."""
        connection = self.connect()
        connection.execute("BEGIN IMMEDIATE")
        try:
            for table in ("users", "scenes", "renders", "render_queue", "publications", "counters"):
                connection.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchall()
        finally:
            connection.execute("ROLLBACK")


def _add_columns(connection: sqlite3.Connection) -> None:
    for table, columns in ADDED_COLUMNS.items():
        present = {row["name"] for row in connection.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns.items():
            if name not in present:
                try:
                    connection.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
                except sqlite3.OperationalError as error:
                    if "duplicate column name" not in str(error):
                        raise
                    continue  # another process opening the same new file added it meanwhile
                if (table, name) == ("publications", "search"):
                    _fill_search(connection)


def _fill_search(connection: sqlite3.Connection) -> None:
    """Publications from before the search get their search words (as SqliteGallery writes them)."""
    from infra.domain.publication import Publication  # the schema module otherwise knows no domain

    for row in connection.execute("SELECT render_id, data FROM publications").fetchall():
        try:
            publication = Publication.model_validate_json(row["data"])
        except ValueError:
            continue  # not a publication this code can read: left unsearchable rather than failing to open
        search = " | ".join(publication.search_fields())
        connection.execute("UPDATE publications SET search = ? WHERE render_id = ?", (search, row["render_id"]))


def _allow_cancelled(connection: sqlite3.Connection) -> None:
    """A renders table from before the cancelled state gets it. SQLite cannot change a
    CHECK constraint in place, so the table is made again and its rows copied (the
    procedure of SQLite's "ALTER TABLE" page, foreign keys off meanwhile)."""
    if "'cancelled'" in _renders_sql(connection):
        return
    connection.execute("PRAGMA foreign_keys=OFF")
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            if "'cancelled'" not in _renders_sql(connection):  # another process may have done it meanwhile
                columns = ", ".join(row["name"] for row in connection.execute("PRAGMA table_info(renders)"))
                connection.execute(RENDERS.replace("IF NOT EXISTS renders", "renders_new"))
                connection.execute(f"INSERT INTO renders_new ({columns}) SELECT {columns} FROM renders")
                connection.execute("DROP TABLE renders")
                connection.execute("ALTER TABLE renders_new RENAME TO renders")
                connection.execute("CREATE INDEX renders_by_user ON renders(user_id, created_at)")
                connection.execute("CREATE INDEX renders_by_state ON renders(state)")
                if connection.execute("PRAGMA foreign_key_check").fetchall():
                    raise sqlite3.IntegrityError(
                        "the renders table could not be made again without breaking a reference"
                    )
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
    finally:
        connection.execute("PRAGMA foreign_keys=ON")


def _renders_sql(connection: sqlite3.Connection) -> str:
    return connection.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'renders'").fetchone()[0]


def _use_wal(connection: sqlite3.Connection, tries: int = 100) -> None:
    """WAL mode, which the file keeps once set. Setting it needs the file to itself and
    SQLite answers "database is locked" at once rather than waiting (connections opening
    a new file together, found by eight threads claiming one key), so it is tried again."""
    for attempt in range(tries):
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == tries - 1:
                raise
            time.sleep(0.05)
