"""The gallery in Firestore: the cloud twin of infra.gallery.sqlite.

`publications/{render_id}` holds the card and the counts, with `votes/{user}` and
`reports/{user}` beneath. A vote or report is written first, then the publication is
recounted and written with a compare-and-set on its update time, so two votes at once
both end up counted (the loser reads and recounts again). The gallery queries need the
composite indexes in infra/firestore_indexes.json.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from infra.domain.publication import GalleryFilter, GallerySort, Publication, Vote
from infra.firestore import TRANSITION_ATTEMPTS, compare_and_set, count
from infra.gallery import Gallery

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

    def report(self, render_id: str, user_id: str) -> Publication:
        self._require(render_id)
        report = self._publications.document(render_id).collection("reports").document(user_id)
        report.set({"at": firestore.SERVER_TIMESTAMP})
        return self._update(render_id, lambda publication: self._recounted(render_id, publication))

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

    def _require(self, render_id: str) -> None:
        if not self._publications.document(render_id).get().exists:
            raise KeyError(render_id)


def _document(publication: Publication) -> dict:
    return publication.model_dump() | {"listed": publication.listed, "keys": publication.filter_keys()}
