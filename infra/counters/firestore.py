"""Counters in Firestore: the cloud twin of infra.counters.sqlite.

One document per counter in the `counters` collection, named by a hash of its key (a
key may hold characters a document id may not): {key, value, expires_at}. A take over
several counters is one compare-and-set over their documents (infra.firestore), so it
adds to all or to none. Terraform gives the collection a TTL policy on `expires_at`,
so expired counters are deleted by Firestore itself; until then they read as 0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from google.cloud import firestore

from infra.counters import Contended, Counters, Limit, distinct
from infra.domain.ids import now
from infra.firestore import ContendedDocuments, Document, compare_and_set_many

COLLECTION = "counters"


class FirestoreCounters(Counters):
    def __init__(self, client: firestore.Client):
        self._client = client
        self._counters = client.collection(COLLECTION)

    def take(self, limits: Sequence[Limit], amount: int = 1) -> Limit | None:
        distinct(limits)
        refused: list[Limit] = []

        def change(documents: list[Document | None]) -> list[Document | None] | None:
            moment = now()
            refused.clear()
            for limit, document in zip(limits, documents, strict=True):
                if _live(document, moment) + amount > limit.maximum:
                    refused.append(limit)
                    return None
            return [
                _added(limit.key, document, amount, limit.expires_at, moment)
                for limit, document in zip(limits, documents, strict=True)
            ]

        self._write([limit.key for limit in limits], change)
        return refused[0] if refused else None

    def give_back(self, keys: Sequence[str], amount: int = 1) -> None:
        if not keys:
            return

        def change(documents: list[Document | None]) -> list[Document | None] | None:
            moment = now()
            return [
                {"value": max(document["value"] - amount, 0)} if _live(document, moment) and document else None
                for document in documents
            ]

        self._write(list(dict.fromkeys(keys)), change)

    def add(self, key: str, amount: int, expires_at: datetime) -> int:
        def change(documents: list[Document | None]) -> list[Document | None]:
            return [_added(key, documents[0], amount, expires_at, now())]

        written = self._write([key], change)
        return written[0]["value"] if written and written[0] else 0

    def value(self, key: str) -> int:
        return _live(self._document(key), now())

    def expires_at(self, key: str) -> datetime | None:
        document = self._document(key)
        return document["expires_at"] if document and _live_at(document, now()) else None

    def clear(self, key: str) -> None:
        self._reference(key).delete()

    def check(self) -> None:
        # Reading a counter reaches the database and needs the same rights as writing one.
        self._reference("readiness").get()

    def _document(self, key: str) -> Document | None:
        snapshot = self._reference(key).get()
        return snapshot.to_dict() if snapshot.exists else None

    def _reference(self, key: str) -> firestore.DocumentReference:
        return self._counters.document(hashlib.sha256(key.encode()).hexdigest())

    def _write(self, keys: list[str], change) -> list[Document | None] | None:
        try:
            return compare_and_set_many(self._client, [self._reference(key) for key in keys], change)
        except ContendedDocuments as error:
            raise Contended(str(error)) from error


def _live_at(document: Document, moment: datetime) -> bool:
    return document["expires_at"] > moment


def _live(document: Document | None, moment: datetime) -> int:
    return document["value"] if document is not None and _live_at(document, moment) else 0


def _added(key: str, document: Document | None, amount: int, expires_at: datetime, moment: datetime) -> Document:
    if document is not None and _live_at(document, moment):
        return {"key": key, "value": document["value"] + amount, "expires_at": document["expires_at"]}
    return {"key": key, "value": amount, "expires_at": expires_at}
