"""What the Firestore adapters share: a compare-and-set on one document or on several at
once, and counting."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from google.api_core.exceptions import AlreadyExists, FailedPrecondition
from google.cloud import firestore

Document = dict[str, Any]
# Each failed compare-and-set means another writer changed the document first; a
# change gives up only after this many changes by others, which no real race makes.
TRANSITION_ATTEMPTS = 50


def compare_and_set(
    client: firestore.Client,
    reference: firestore.DocumentReference,
    change: Callable[[Document | None], Document | None],
) -> Document | None:
    """Reads one document and writes change(it) only if nobody wrote it in between,
    reading again after each such write. `change` gets the document (None when there is
    none) and returns the fields to update, or None to leave it alone; the answer is
    what was written.

    (Transactions would do too, but under contention the emulator aborts them over and
    over: 2 races in 30 of six deliveries ended in an exception rather than an answer.)
    """
    for _ in range(TRANSITION_ATTEMPTS):
        snapshot = reference.get()
        fields = change(snapshot.to_dict() if snapshot.exists else None)
        if fields is None:
            return None
        try:
            reference.update(fields, option=client.write_option(last_update_time=snapshot.update_time))
            return fields
        except FailedPrecondition:
            continue  # another writer got there first: look again
    raise RuntimeError(f"{reference.path} kept changing under {TRANSITION_ATTEMPTS} attempts to update it")


def compare_and_set_many(
    client: firestore.Client,
    references: Sequence[firestore.DocumentReference],
    change: Callable[[list[Document | None]], list[Document | None] | None],
) -> list[Document | None] | None:
    """compare_and_set over several documents, all or none: reads them, and writes
    change(them) in one batch whose every write holds only if its document is as read
    (unchanged since, or still missing); one that is not fails the whole batch, and it
    reads again. `change` gets the documents in order (None for a missing one) and
    returns, in order, the fields to write to each (None leaves one alone), or None to
    write nothing; the answer is what was written. Raises ContendedDocuments after
    TRANSITION_ATTEMPTS changes by others."""
    for _ in range(TRANSITION_ATTEMPTS):
        snapshots = {snapshot.reference.path: snapshot for snapshot in client.get_all(list(references))}
        read = [snapshots[reference.path] for reference in references]
        fields = change([snapshot.to_dict() if snapshot.exists else None for snapshot in read])
        if fields is None:
            return None
        batch = client.batch()
        for reference, snapshot, update in zip(references, read, fields, strict=True):
            if update is None:
                continue
            if snapshot.exists:
                batch.update(reference, update, option=client.write_option(last_update_time=snapshot.update_time))
            else:
                batch.create(reference, update)  # fails if another writer made it meanwhile
        try:
            batch.commit()
            return fields
        except (FailedPrecondition, AlreadyExists):
            continue  # another writer got there first: look again
    raise ContendedDocuments(f"{len(references)} documents kept changing under {TRANSITION_ATTEMPTS} attempts")


class ContendedDocuments(RuntimeError):
    """Other writers changed the documents before every attempt to write them."""


def count(query: firestore.Query) -> int:
    """The number of documents a query matches, counted by the server."""
    results: Any = query.count().get()  # type: ignore[call-arg]  # its annotation wants a `self`
    return int(results[0][0].value)
