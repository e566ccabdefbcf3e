"""A data folder from before a schema change opens with the new schema, its rows kept."""

from __future__ import annotations

import sqlite3

import pytest

from infra.records.sqlite import SqliteRecords
from infra.sqlite import SqliteDatabase

# The tables as the release before the cancelled state made them (no quota columns either).
BEFORE_CANCEL = """
CREATE TABLE users (id TEXT PRIMARY KEY, created_at TEXT NOT NULL);
CREATE TABLE renders (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    scene_id TEXT,
    spec TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'dispatching', 'running', 'succeeded', 'failed')),
    progress REAL NOT NULL DEFAULT 0,
    stage TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    runner TEXT,
    artifacts TEXT NOT NULL DEFAULT '{}',
    timings TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    started_at TEXT,
    progress_at TEXT,
    finished_at TEXT
);
CREATE TABLE publications (render_id TEXT PRIMARY KEY REFERENCES renders(id), data TEXT NOT NULL,
    listed INTEGER NOT NULL, sunk INTEGER NOT NULL, score INTEGER NOT NULL, published_at TEXT NOT NULL,
    book TEXT, author TEXT, style TEXT NOT NULL);
CREATE TABLE render_queue (render_id TEXT PRIMARY KEY REFERENCES renders(id), enqueued_at TEXT NOT NULL,
    claimed_at TEXT, deliveries INTEGER NOT NULL DEFAULT 0);
"""


def test_a_renders_table_from_before_the_cancelled_state_gets_it_and_keeps_its_rows(tmp_path, make_render, adapters):
    spec = make_render().spec.model_dump_json()  # a valid spec to store the old way
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(BEFORE_CANCEL)
        old.execute("INSERT INTO users VALUES ('u', '2030-01-01T00:00:00+00:00')")
        for render_id, state in (("kept", "succeeded"), ("waiting", "queued")):
            old.execute(
                "INSERT INTO renders (id, user_id, spec, state, created_at, timings) VALUES (?, 'u', ?, ?, ?, ?)",
                (render_id, spec, state, "2030-01-01T00:00:00.000000+00:00", '{"render_s": 4.5}'),
            )
        old.execute("INSERT INTO publications VALUES ('kept', '{}', 1, 0, 0, '2030-01-01', NULL, NULL, 'oil')")
        old.execute("INSERT INTO render_queue (render_id, enqueued_at) VALUES ('waiting', '2030-01-01')")
    old.close()

    database = SqliteDatabase(path)
    records = SqliteRecords(database)
    kept = records.get_render("kept")
    assert kept is not None and (kept.state, kept.timings, kept.quota, kept.requested_preset) == (
        "succeeded",
        {"render_s": 4.5},
        [],
        None,
    )
    assert records.cancel("waiting") and records.get_render("waiting").state == "cancelled"  # type: ignore[union-attr]
    connection = database.connect()
    assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    indexes = {row[1] for row in connection.execute("PRAGMA index_list(renders)")}
    assert {"renders_by_user", "renders_by_state"} <= indexes
    # The references from the other tables still hold: a publication of a missing render is refused.
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        connection.execute(
            "INSERT INTO publications (render_id, data, listed, sunk, score, published_at, book, author, style) "
            "VALUES ('nobody', '{}', 1, 0, 0, '2030', NULL, NULL, 'oil')"
        )


def test_publications_from_before_the_search_are_found_by_it(tmp_path, make_render):
    from infra.domain.publication import GalleryFilter, Publication
    from infra.gallery.sqlite import SqliteGallery

    spec = make_render().spec.model_dump_json()
    card = Publication(render_id="old", owner_id="u", owner="Reader", title="Neva at dusk", book="Crime", style="oil")
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(BEFORE_CANCEL)
        old.execute("INSERT INTO users VALUES ('u', '2030-01-01T00:00:00+00:00')")
        old.execute(
            "INSERT INTO renders (id, user_id, spec, state, created_at) VALUES ('old', 'u', ?, 'succeeded', ?)",
            (spec, "2030-01-01T00:00:00.000000+00:00"),
        )
        old.execute(
            "INSERT INTO publications VALUES ('old', ?, 1, 0, 0, ?, 'crime', NULL, 'oil')",
            (card.model_dump_json(), card.published_at.isoformat()),
        )
    old.close()
    gallery = SqliteGallery(SqliteDatabase(path))
    assert [p.render_id for p in gallery.page("new", GalleryFilter(search="neva at"), 1)[0]] == ["old"]
    assert [p.render_id for p in gallery.page("new", GalleryFilter(search="crim"), 1)[0]] == ["old"]


def test_instances_opening_a_new_file_at_once_add_each_column_once(tmp_path):
    """Several processes (here: instances, each with its own schema lock) open a new data
    folder together; each adds the columns the schema gained, and only one may."""
    import threading

    path = tmp_path / "records.sqlite3"
    databases = [SqliteDatabase(path) for _ in range(8)]
    barrier = threading.Barrier(len(databases))
    failures: list[BaseException] = []

    def open_it(database: SqliteDatabase) -> None:
        barrier.wait()
        try:
            database.connect()
        except BaseException as error:  # any failure to open is what this test looks for
            failures.append(error)

    threads = [threading.Thread(target=open_it, args=(database,)) for database in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    columns = [row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(publications)")]
    assert columns.count("search") == 1
