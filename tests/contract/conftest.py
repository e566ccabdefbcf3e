"""One contract suite per port, run against the local adapter and the cloud adapter on its emulator."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(params=["sqlite", pytest.param("firestore", marks=pytest.mark.emulator)])
def records(request, settings):
    if request.param == "sqlite":
        from infra.records_sqlite import SqliteDatabase, SqliteRecords

        return SqliteRecords(SqliteDatabase(settings.database_path))
    host = request.getfixturevalue("firestore_emulator")
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", host)
    from google.cloud import firestore

    from infra.records_firestore import FirestoreRecords

    # A project of its own per test: the emulator keeps each project's data apart.
    return FirestoreRecords(firestore.Client(project=f"test-{uuid.uuid4().hex[:12]}"))
