"""One contract suite per port, run against the local adapter and the cloud adapter on its emulator."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(params=["sqlite", pytest.param("firestore", marks=pytest.mark.emulator)])
def store(request, settings):
    """The records and the gallery of one store: SQLite, or Firestore on its emulator."""
    if request.param == "sqlite":
        from infra.gallery.sqlite import SqliteGallery
        from infra.records.sqlite import SqliteRecords
        from infra.sqlite import SqliteDatabase

        database = SqliteDatabase(settings.database_path)
        return SqliteRecords(database), SqliteGallery(database)
    host = request.getfixturevalue("firestore_emulator")
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", host)
    from google.cloud import firestore

    from infra.gallery.firestore import FirestoreGallery
    from infra.records.firestore import FirestoreRecords

    # A project of its own per test: the emulator keeps each project's data apart.
    client = firestore.Client(project=f"test-{uuid.uuid4().hex[:12]}")
    return FirestoreRecords(client), FirestoreGallery(client)


@pytest.fixture
def records(store):
    return store[0]


@pytest.fixture
def gallery(store):
    return store[1]
