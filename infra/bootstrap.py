"""The one place that reads settings and chooses the adapters.

The app factory and the job's entry take already-built adapters, so tests hand them
fakes or emulator-backed ones instead. Nothing here connects until first use.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.queue_sqlite import SqliteRenderQueue
from infra.records import Records
from infra.records_sqlite import SqliteDatabase, SqliteRecords
from infra.settings import Settings, load_settings
from infra.storage import LocalStorage, Storage
from infra.usage import UsageSink
from infra.usage_duckdb import DuckDBUsageSink


@dataclass
class Adapters:
    settings: Settings
    records: Records
    storage: Storage
    queue: SqliteRenderQueue
    usage: UsageSink


def bootstrap(settings: Settings | None = None) -> Adapters:
    """The embedded stack under the data folder; Google Cloud adapters arrive with their issue."""
    settings = settings or load_settings()
    database = SqliteDatabase(settings.database_path)
    return Adapters(
        settings=settings,
        records=SqliteRecords(database),
        storage=LocalStorage(settings.storage_root),
        queue=SqliteRenderQueue(database),
        usage=DuckDBUsageSink(settings.usage_path),
    )
