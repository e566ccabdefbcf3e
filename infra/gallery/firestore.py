"""The gallery in Firestore: the cloud twin of infra.gallery.sqlite.

`publications/{render_id}` holds the card, the counts and the moderation, with
`votes/{user}` and `reports/{user}` beneath. A vote or report is written first, then the publication is
recounted and written with a compare-and-set on its update time, so two votes at once
both end up counted (the loser reads and recounts again). The gallery queries need the
composite indexes in infra/firestore_indexes.json.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from google.api_core.exceptions import AlreadyExists, FailedPrecondition, NotFound
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from infra.domain.ids import now
from infra.domain.publication import GalleryFilter, GallerySort, Publication, Report, Vote, review_order
from infra.firestore import TRANSITION_ATTEMPTS, compare_and_set, count
from infra.gallery import Gallery

log = logging.getLogger(__name__)

ORDER = {"top": [("score", "DESCENDING"), ("published_at", "DESCENDING")], "new": [("published_at", "DESCENDING")]}


class FirestoreGallery(Gallery):
    def __init__(self, client: firestore.Client):
        self._client = client
        self._publications = client.collection("publications")

    def publish(self, publication: Publication) -> Publication:
        for _ in range(TRANSITION_ATTEMPTS):
            try:
                return self._update(publication.render_id, publication.over)
            except KeyError:  # the first time: create it, unless someone just did
                try:
                    self._publications.document(publication.render_id).create(_document(publication))
                    return publication
                except AlreadyExists:
                    continue
        raise RuntimeError(f"publication {publication.render_id} kept changing")

    def unpublish(self, render_id: str) -> None:
        with contextlib.suppress(KeyError):  # never published: nothing to take back
            self._update(render_id, lambda publication: publication.model_copy(update={"published": False}))

    def get(self, render_id: str) -> Publication | None:
        snapshot = self._publications.document(render_id).get()
        return Publication.model_validate(snapshot.to_dict()) if snapshot.exists else None

    def page(
        self, sort: GallerySort, where: GalleryFilter, page: int, page_size: int = 12
    ) -> tuple[list[Publication], bool]:
        query = self._publications.where(filter=FieldFilter("listed", "==", True))
        if not where.include_sunk:
            query = query.where(filter=FieldFilter("sunk", "==", False))
        for name, value in where.keys().items():
            query = query.where(filter=FieldFilter(f"keys.{name}", "==", value))
        if term := where.search_term():
            query = query.where(filter=FieldFilter("search_terms", "array_contains", term))
        for field, direction in ORDER[sort]:
            query = query.order_by(field, direction=direction)
        query = query.offset((page - 1) * page_size).limit(page_size + 1)
        items = [Publication.model_validate(snapshot.to_dict()) for snapshot in query.stream()]
        return items[:page_size], len(items) > page_size

    def vote(self, render_id: str, user_id: str, value: Vote) -> Publication:
        self._require(render_id)
        vote = self._publications.document(render_id).collection("votes").document(user_id)
        if value == 0:
            vote.delete()
        else:
            vote.set({"value": value})
        return self._update(render_id, lambda publication: self._recounted(render_id, publication))

    def vote_of(self, render_id: str, user_id: str) -> Vote:
        snapshot = self._publications.document(render_id).collection("votes").document(user_id).get()
        return snapshot.get("value") if snapshot.exists else 0

    def report(self, render_id: str, user_id: str, reason: str | None = None) -> Publication:
        self._require(render_id)
        report = self._publications.document(render_id).collection("reports").document(user_id)
        with contextlib.suppress(AlreadyExists):  # one report per person, kept as first made
            report.create({"at": now(), "reason": reason})
        return self._update(render_id, lambda publication: self._recounted(render_id, publication))

    def reports_on(self, render_id: str) -> list[Report]:
        reports = self._publications.document(render_id).collection("reports").order_by("at").stream()
        return [Report(user_id=s.id, reason=s.get("reason"), created_at=s.get("at")) for s in reports]

    def change(self, render_id: str, change: Callable[[Publication], Publication]) -> Publication:
        return self._update(render_id, change)

    def for_review(self, limit: int = 200) -> list[Publication]:
        query = self._publications.where(filter=FieldFilter("needs_review", "==", True)).limit(limit)
        return sorted((Publication.model_validate(s.to_dict()) for s in query.stream()), key=review_order)

    def transfer_owner(self, from_user: str, to_user: str) -> int:
        query = self._publications.where(filter=FieldFilter("owner_id", "==", from_user))
        moved = 0
        for snapshot in query.stream():
            self._update(snapshot.id, lambda publication: publication.model_copy(update={"owner_id": to_user}))
            moved += 1
        return moved

    def add_remix(self, render_id: str) -> None:
        self._update(render_id, lambda publication: publication.model_copy(update={"remixes": publication.remixes + 1}))

    def delete(self, render_id: str) -> None:
        reference = self._publications.document(render_id)
        for name in ("votes", "reports"):
            for snapshot in reference.collection(name).stream():
                snapshot.reference.delete()
        reference.delete()

    def _recounted(self, render_id: str, publication: Publication) -> Publication:
        reference = self._publications.document(render_id)
        votes = reference.collection("votes")
        return publication.counted(
            count(votes.where(filter=FieldFilter("value", "==", 1))),
            count(votes.where(filter=FieldFilter("value", "==", -1))),
            count(reference.collection("reports")),
        )

    def _update(self, render_id: str, change: Callable[[Publication], Publication]) -> Publication:
        """Reads, changes and writes the publication if nobody wrote it in between; KeyError
        when there is none."""
        changed: Publication | None = None

        def fields(document: dict | None) -> dict:
            nonlocal changed
            if document is None:
                raise KeyError(render_id)
            changed = change(Publication.model_validate(document))
            return _document(changed)

        compare_and_set(self._client, self._publications.document(render_id), fields)
        assert changed is not None  # fields() ran and wrote it, or raised
        return changed

    def reindex(self) -> int:
        written = 0
        # A page at a time: one stream's deadline covers all of it, and may end it early.
        query = self._publications.order_by(FieldPath.document_id()).limit(REINDEX_PAGE)
        page = list(query.stream())
        while page:
            for snapshot in page:
                written += self._reindexed(snapshot)
            page = list(query.start_after(page[-1]).stream()) if len(page) == REINDEX_PAGE else []
        return written

    def _reindexed(self, snapshot: firestore.DocumentSnapshot) -> int:
        stored = snapshot.to_dict() or {}  # a listed document exists: never None
        try:
            publication = Publication.model_validate(stored)
        except ValueError as error:
            log.warning("publication %s cannot be read, left as it is: %s", snapshot.id, error)
            return 0
        worked_out = _document(publication.counted(publication.up, publication.down, publication.reports))
        differs = {name: value for name, value in worked_out.items() if stored.get(name) != value}
        if not differs:
            return 0
        try:
            update = self._client.write_option(last_update_time=snapshot.update_time)
            snapshot.reference.update(differs, option=update)
        except (FailedPrecondition, NotFound):  # written (and so worked out afresh) or deleted meanwhile
            return 0
        return 1

    def _require(self, render_id: str) -> None:
        if not self._publications.document(render_id).get().exists:
            raise KeyError(render_id)


#: Publications read at a time by `reindex`.
REINDEX_PAGE = 300


def _document(publication: Publication) -> dict:
    return publication.model_dump() | {
        "listed": publication.listed,
        "keys": publication.filter_keys(),
        "search_terms": publication.search_terms(),
    }
