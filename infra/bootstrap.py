"""The one place that reads settings and chooses the adapters.

The app factory and the job's entry take already-built adapters, so tests hand them
fakes or emulator-backed ones instead. Nothing here connects until first use.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.counters import Counters
from infra.counters.sqlite import SqliteCounters
from infra.gallery import Gallery
from infra.gallery.sqlite import SqliteGallery
from infra.queue import RenderQueue
from infra.queue.sqlite import SqliteRenderQueue
from infra.records import Records
from infra.records.sqlite import SqliteRecords
from infra.settings import Settings, load_settings
from infra.sqlite import SqliteDatabase
from infra.storage import Storage
from infra.storage.local import LocalStorage
from infra.usage import UsageSink
from infra.usage.files import UsageFiles
from infra.usage.reports import UsageReports
from infra.usage.warehouse import UsageWarehouse


@dataclass
class Adapters:
    settings: Settings
    records: Records
    storage: Storage
    queue: RenderQueue
    usage: UsageSink
    gallery: Gallery
    #: Quotas, rate limits and the day's render spend, shared by every instance.
    counters: Counters
    #: The usage views run here, on one machine; on Google Cloud, BigQuery and Looker Studio run them.
    reports: UsageReports | None = None


def bootstrap(settings: Settings | None = None) -> Adapters:
    """The adapters for the settings' mode: the embedded stack under the data folder, or
    Google Cloud's services. Clients are made here; none connects before its first use."""
    settings = settings or load_settings()
    if settings.mode == "cloud":
        return _cloud(settings)
    database = SqliteDatabase(settings.database_path)
    return Adapters(
        settings=settings,
        records=SqliteRecords(database),
        storage=LocalStorage(settings.storage_root),
        queue=SqliteRenderQueue(database),
        usage=UsageFiles(settings.usage_folder),
        gallery=SqliteGallery(database),
        counters=SqliteCounters(database),
        reports=UsageReports(UsageWarehouse(settings.usage_folder, settings.usage_path)),
    )


def _cloud(settings: Settings) -> Adapters:
    from google.cloud import firestore, pubsub_v1, storage  # type: ignore[attr-defined]  # no type information

    from infra.counters.firestore import FirestoreCounters
    from infra.gallery.firestore import FirestoreGallery
    from infra.queue.pubsub import PubSubRenderQueue
    from infra.records.firestore import FirestoreRecords
    from infra.storage.gcs import GcsStorage
    from infra.usage.pubsub import PubSubUsageSink

    if not (settings.gcp_project and settings.renders_bucket):
        raise ValueError("cloud mode needs ANIMBOOKS_GCP_PROJECT and ANIMBOOKS_RENDERS_BUCKET")
    client = firestore.Client(project=settings.gcp_project)
    records = FirestoreRecords(client)
    publisher = pubsub_v1.PublisherClient()
    return Adapters(
        settings=settings,
        records=records,
        storage=GcsStorage(storage.Client(project=settings.gcp_project), settings.renders_bucket),
        queue=PubSubRenderQueue(
            publisher, publisher.topic_path(settings.gcp_project, settings.render_requests_topic), records
        ),
        usage=PubSubUsageSink(publisher, publisher.topic_path(settings.gcp_project, settings.usage_topic)),
        gallery=FirestoreGallery(client),
        counters=FirestoreCounters(client),
    )
