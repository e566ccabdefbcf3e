"""The gallery in the records' SQLite file: the embedded twin of infra.gallery.firestore.

Each change of counts runs in one IMMEDIATE transaction: the vote or report row and the
publication's recounted totals are written together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager

from infra.domain.ids import now
from infra.domain.publication import GalleryFilter, GallerySort, Publication, Report, Vote, review_order
from infra.gallery import Gallery
from infra.sqlite import SqliteDatabase

log = logging.getLogger(__name__)

ORDER = {"top": "score DESC, published_at DESC, render_id", "new": "published_at DESC, render_id"}


#: What the queries compare, worked out from the publication (`_columns`).
COLUMNS = ("listed", "sunk", "score", "published_at", "book", "author", "style", "search")


def _columns(publication: Publication) -> dict:
    return {
        "listed": publication.listed,
        "sunk": publication.sunk,
        "score": publication.score,
        "published_at": publication.published_at.isoformat(),
        **publication.filter_keys(),
        # A storyboard may have no style; the column, from the first schema, is NOT NULL.
        "style": publication.filter_keys()["style"] or "",
        # A search term never holds "|", so a match never runs from one field into the next.
        "search": " | ".join(publication.search_fields()),
    }


class SqliteGallery(Gallery):
    def __init__(self, database: SqliteDatabase):
        self._db = database

    @contextmanager
    def _transaction(self):
        connection = self._db.connect()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def _write(self, connection, publication: Publication) -> None:
        connection.execute(
            "INSERT INTO publications "
            "(render_id, data, listed, sunk, score, published_at, book, author, style, search) "
            "VALUES (:render_id, :data, :listed, :sunk, :score, :published_at, :book, :author, :style, :search) "
            "ON CONFLICT(render_id) DO UPDATE SET data = excluded.data, listed = excluded.listed, "
            "sunk = excluded.sunk, score = excluded.score, published_at = excluded.published_at, "
            "book = excluded.book, author = excluded.author, style = excluded.style, search = excluded.search",
            {"render_id": publication.render_id, "data": publication.model_dump_json(), **_columns(publication)},
        )

    def reindex(self) -> int:
        written = 0
        with self._transaction() as connection:
            rows = connection.execute(f"SELECT render_id, data, {', '.join(COLUMNS)} FROM publications").fetchall()
            for row in rows:
                try:
                    stored = Publication.model_validate_json(row["data"])
                except ValueError as error:
                    log.warning("publication %s cannot be read, left as it is: %s", row["render_id"], error)
                    continue
                worked_out = stored.counted(stored.up, stored.down, stored.reports)
                columns = _columns(worked_out).items()
                if worked_out != stored or any(row[name] != value for name, value in columns):
                    self._write(connection, worked_out)
                    written += 1
        return written

    def _read(self, connection, render_id: str) -> Publication | None:
        row = connection.execute("SELECT data FROM publications WHERE render_id = ?", (render_id,)).fetchone()
        return Publication.model_validate_json(row["data"]) if row else None

    def publish(self, publication: Publication) -> Publication:
        with self._transaction() as connection:
            earlier = self._read(connection, publication.render_id)
            if earlier is not None:
                publication = publication.over(earlier)
            self._write(connection, publication)
        return publication

    def unpublish(self, render_id: str) -> None:
        with self._transaction() as connection:
            publication = self._read(connection, render_id)
            if publication is not None:
                self._write(connection, publication.model_copy(update={"published": False}))

    def get(self, render_id: str) -> Publication | None:
        return self._read(self._db.connect(), render_id)

    def page(
        self, sort: GallerySort, where: GalleryFilter, page: int, page_size: int = 12
    ) -> tuple[list[Publication], bool]:
        clauses, parameters = ["listed = 1"], []
        if not where.include_sunk:
            clauses.append("sunk = 0")
        for column, value in where.keys().items():
            clauses.append(f"{column} = ?")
            parameters.append(value)
        if term := where.search_term():
            # From the start of a word, as Firestore's stored terms match (a term has only letters,
            # digits and single spaces, so LIKE's wildcards never occur in it).
            clauses.append("(' ' || search) LIKE ?")
            parameters.append(f"% {term}%")
        rows = (
            self._db.connect()
            .execute(
                f"SELECT data FROM publications WHERE {' AND '.join(clauses)} ORDER BY {ORDER[sort]} LIMIT ? OFFSET ?",
                (*parameters, page_size + 1, (page - 1) * page_size),
            )
            .fetchall()
        )
        items = [Publication.model_validate_json(row["data"]) for row in rows]
        return items[:page_size], len(items) > page_size

    def vote(self, render_id: str, user_id: str, value: Vote) -> Publication:
        with self._transaction() as connection:
            publication = self._require(connection, render_id)
            if value == 0:
                connection.execute("DELETE FROM votes WHERE render_id = ? AND user_id = ?", (render_id, user_id))
            else:
                connection.execute(
                    "INSERT INTO votes (render_id, user_id, value) VALUES (?, ?, ?) "
                    "ON CONFLICT(render_id, user_id) DO UPDATE SET value = excluded.value",
                    (render_id, user_id, value),
                )
            up, down = connection.execute(
                "SELECT COALESCE(SUM(value = 1), 0), COALESCE(SUM(value = -1), 0) FROM votes WHERE render_id = ?",
                (render_id,),
            ).fetchone()
            publication = publication.counted(up, down, publication.reports)
            self._write(connection, publication)
        return publication

    def vote_of(self, render_id: str, user_id: str) -> Vote:
        row = (
            self._db.connect()
            .execute("SELECT value FROM votes WHERE render_id = ? AND user_id = ?", (render_id, user_id))
            .fetchone()
        )
        return row["value"] if row else 0

    def report(self, render_id: str, user_id: str, reason: str | None = None) -> Publication:
        with self._transaction() as connection:
            publication = self._require(connection, render_id)
            connection.execute(
                "INSERT OR IGNORE INTO reports (render_id, user_id, reason, created_at) VALUES (?, ?, ?, ?)",
                (render_id, user_id, reason, now().isoformat()),
            )
            [reports] = connection.execute("SELECT COUNT(*) FROM reports WHERE render_id = ?", (render_id,)).fetchone()
            publication = publication.counted(publication.up, publication.down, reports)
            self._write(connection, publication)
        return publication

    def reports_on(self, render_id: str) -> list[Report]:
        rows = self._db.connect().execute(
            "SELECT user_id, reason, created_at FROM reports WHERE render_id = ? ORDER BY created_at, user_id",
            (render_id,),
        )
        return [Report(user_id=row["user_id"], reason=row["reason"], created_at=row["created_at"]) for row in rows]

    def change(self, render_id: str, change: Callable[[Publication], Publication]) -> Publication:
        with self._transaction() as connection:
            publication = change(self._require(connection, render_id))
            self._write(connection, publication)
        return publication

    def for_review(self, limit: int = 200) -> list[Publication]:
        rows = self._db.connect().execute(
            "SELECT data FROM publications WHERE json_extract(data, '$.needs_review') = 1 LIMIT ?", (limit,)
        )
        return sorted((Publication.model_validate_json(row["data"]) for row in rows), key=review_order)

    def transfer_owner(self, from_user: str, to_user: str) -> int:
        with self._transaction() as connection:
            rows = connection.execute(
                "SELECT data FROM publications WHERE json_extract(data, '$.owner_id') = ?", (from_user,)
            ).fetchall()
            for row in rows:
                publication = Publication.model_validate_json(row["data"])
                self._write(connection, publication.model_copy(update={"owner_id": to_user}))
        return len(rows)

    def add_remix(self, render_id: str) -> None:
        with self._transaction() as connection:
            publication = self._require(connection, render_id)
            self._write(connection, publication.model_copy(update={"remixes": publication.remixes + 1}))

    def delete(self, render_id: str) -> None:
        with self._transaction() as connection:
            connection.execute("DELETE FROM votes WHERE render_id = ?", (render_id,))
            connection.execute("DELETE FROM reports WHERE render_id = ?", (render_id,))
            connection.execute("DELETE FROM publications WHERE render_id = ?", (render_id,))

    def _require(self, connection, render_id: str) -> Publication:
        publication = self._read(connection, render_id)
        if publication is None:
            raise KeyError(render_id)
        return publication
