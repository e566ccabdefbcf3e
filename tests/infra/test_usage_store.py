"""The local usage store: files appended by every process, loaded into DuckDB for the
reports. Many writers at once, writers killed mid-write, a broken database, a store
that fails for a while: no event lost or doubled, no error to the caller."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from infra.domain.pricing import PRICING_VERSION
from infra.domain.usage import UsageEvent
from infra.usage.files import UsageFiles
from infra.usage.warehouse import UsageWarehouse
from tests.conftest import ROOT


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "usage"


@pytest.fixture
def warehouse(folder, tmp_path):
    return UsageWarehouse(folder, tmp_path / "usage.duckdb")


def test_events_are_stored_with_every_field(folder, warehouse):
    event = UsageEvent(
        kind="dialogue_turn",
        user_id="u",
        model="offline",
        tokens_in=12,
        tokens_out=40,
        attributes={"language": "ru", "note": "сцена"},
    )
    UsageFiles(folder).record(event)
    [stored] = warehouse.events()
    assert stored["event_id"] == event.event_id and stored["kind"] == "dialogue_turn"
    assert stored["event_ts"] == event.event_ts
    assert (stored["tokens_in"], stored["tokens_out"], stored["cost_usd"]) == (12, 40, 0.0)
    assert stored["pricing_version"] == PRICING_VERSION
    assert stored["attributes"] == '{"language": "ru", "note": "сцена"}'


def test_each_load_adds_only_what_is_new(folder, warehouse):
    sink = UsageFiles(folder)
    sink.record(UsageEvent(kind="download", user_id="a"))
    assert len(warehouse.events()) == 1
    sink.record(UsageEvent(kind="download", user_id="b"))
    assert [e["user_id"] for e in warehouse.events()] == ["a", "b"]
    assert len(warehouse.events()) == 2  # loading again adds nothing


WRITER = """
import sys
from pathlib import Path
from infra.domain.usage import UsageEvent
from infra.usage.files import UsageFiles
sink = UsageFiles(Path(sys.argv[1]))
for number in range(int(sys.argv[3])):
    sink.record(UsageEvent(kind="download", user_id=sys.argv[2], attributes={"n": number}))
"""

LOADER = """
import sys, time
from pathlib import Path
from infra.usage.warehouse import UsageWarehouse
warehouse = UsageWarehouse(Path(sys.argv[1]), Path(sys.argv[2]))
deadline = time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    warehouse.events()
"""


def test_many_processes_writing_while_others_read_lose_nothing(folder, warehouse):
    """Before, each write opened the DuckDB file: concurrent writers failed or corrupted it."""
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(folder), f"writer-{n}", "200"], cwd=ROOT) for n in range(6)
    ]
    readers = [
        subprocess.Popen([sys.executable, "-c", LOADER, str(folder), str(warehouse.path), "4"], cwd=ROOT)
        for _ in range(2)
    ]
    assert [p.wait(timeout=120) for p in writers + readers] == [0] * 8
    events = warehouse.events()
    assert len(events) == 1200 and len({e["event_id"] for e in events}) == 1200
    per_writer = {f"writer-{n}": 0 for n in range(6)}
    for event in events:
        per_writer[event["user_id"]] += 1
    assert set(per_writer.values()) == {200}


ENDLESS_WRITER = """
import sys
from pathlib import Path
from infra.domain.usage import UsageEvent
from infra.usage.files import UsageFiles
sink = UsageFiles(Path(sys.argv[1]))
while True:
    sink.record(UsageEvent(kind="download", user_id="killed", attributes={"padding": "x" * 3000}))
"""


def test_writers_and_loaders_killed_mid_write_lose_at_most_their_own_event(folder, warehouse):
    for _ in range(8):
        writers = [subprocess.Popen([sys.executable, "-c", ENDLESS_WRITER, str(folder)], cwd=ROOT) for _ in range(3)]
        loader = subprocess.Popen([sys.executable, "-c", LOADER, str(folder), str(warehouse.path), "60"], cwd=ROOT)
        time.sleep(1.5)
        for process in [*writers, loader]:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    complete = partial = 0
    for path in folder.glob("events-*.jsonl"):
        data = path.read_bytes()
        complete += data.count(b"\n")
        partial += not data.endswith(b"\n") and bool(data)
    assert complete > 0
    events = warehouse.events()  # the reports still open, and hold every complete line
    assert len(events) == complete == len({e["event_id"] for e in events})
    assert partial <= 24  # at most the one line each killed writer was writing


def test_a_broken_database_is_set_aside_and_loaded_again_from_the_files(folder, warehouse, caplog):
    sink = UsageFiles(folder)
    for user in ("a", "b", "c"):
        sink.record(UsageEvent(kind="download", user_id=user))
    assert len(warehouse.events()) == 3
    warehouse.path.write_bytes(b"this is not a DuckDB file" * 100)
    with caplog.at_level(logging.ERROR):
        assert [e["user_id"] for e in warehouse.events()] == ["a", "b", "c"]
    assert "could not be opened" in caplog.text
    assert len(list(warehouse.path.parent.glob("usage.duckdb.broken-*"))) == 1


def test_a_line_still_being_written_waits_and_a_garbled_one_is_skipped(folder, warehouse):
    sink = UsageFiles(folder)
    sink.record(UsageEvent(kind="download", user_id="before"))
    [path] = sink.files()
    with open(path, "ab") as handle:
        handle.write(b'{"event_id": "garbled", "kind": \n')  # a broken line (never written by us)
        handle.write(UsageEvent(kind="download", user_id="after").model_dump_json().encode() + b"\n")
        handle.write(b'{"event_id": "half-written"')  # no newline yet
    assert [e["user_id"] for e in warehouse.events()] == ["before", "after"]


def test_a_failing_store_never_raises_and_sends_the_event_later(folder, warehouse, caplog):
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("a file where the folder should be")  # every write fails
    sink = UsageFiles(folder, retry_every_s=0.1)
    event = UsageEvent(kind="download", user_id="patient")
    with caplog.at_level(logging.WARNING):
        sink.record(event)  # does not raise
    assert "will retry" in caplog.text
    folder.unlink()  # the store recovers
    deadline = time.monotonic() + 10
    while not folder.exists() or not sink.files():
        assert time.monotonic() < deadline, "the kept event was never sent"
        time.sleep(0.05)
    assert [e["event_id"] for e in warehouse.events()] == [event.event_id]


def test_a_store_failing_for_long_is_not_ready_and_unsent_events_go_to_the_log(folder, caplog):
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("a file where the folder should be")
    sink = UsageFiles(folder, retry_every_s=60)
    sink.STUCK_AFTER_S = 0.0
    event = UsageEvent(kind="render", user_id="lost", render_id="r1")
    sink.record(event)
    with pytest.raises(Exception, match="1 usage events unsent"):
        sink.check()
    with caplog.at_level(logging.ERROR):
        assert sink.flush(timeout_s=0.2) is False
    [record] = [r for r in caplog.records if r.getMessage() == f"usage event not recorded: {event.event_id}"]
    assert record.fields["unrecorded_usage_event"]["render_id"] == "r1"  # replayable from the log


def test_a_new_process_or_a_new_day_writes_a_new_file(folder):
    sink = UsageFiles(folder)
    sink.record(UsageEvent(kind="download"))
    sink.record(UsageEvent(kind="download"))
    [path] = sink.files()
    assert path.name.startswith("events-") and f"-{os.getpid()}-" in path.name
    assert [json.loads(line)["kind"] for line in path.read_text().splitlines()] == ["download", "download"]


def test_a_big_backlog_loads_in_pieces_and_a_line_across_a_piece_is_whole(folder, warehouse, monkeypatch):
    from infra.usage import warehouse as module

    sink = UsageFiles(folder)
    events = [UsageEvent(kind="download", user_id=f"u{n}", attributes={"n": n}) for n in range(40)]
    for event in events:
        sink.record(event)
    assert len(sink.files()) == 1
    monkeypatch.setattr(module, "LOAD_CHUNK_BYTES", 97)  # pieces far shorter than a line, cut anywhere
    assert sorted(e["event_id"] for e in warehouse.events()) == sorted(e.event_id for e in events)


def _unique_events(warehouse) -> list[tuple]:
    with warehouse.connection() as connection:
        return connection.execute(
            "SELECT event_id, user_id FROM usage.main.usage_events_unique ORDER BY ALL"
        ).fetchall()


def test_an_event_delivered_twice_is_kept_once_whether_the_copies_load_together_or_apart(folder, warehouse):
    twice, apart = UsageEvent(kind="download", user_id="a"), UsageEvent(kind="download", user_id="b")
    sink = UsageFiles(folder)
    sink.record(twice)
    sink.record(twice)  # two copies in one load
    sink.record(apart)
    assert _unique_events(warehouse) == sorted([(twice.event_id, "a"), (apart.event_id, "b")])
    sink.record(apart)  # a copy in a later load
    assert _unique_events(warehouse) == sorted([(twice.event_id, "a"), (apart.event_id, "b")])
    assert len(warehouse.events()) == 4  # every copy as delivered is kept too: two of each


def test_a_database_from_before_has_its_view_of_unique_events_made_a_table(folder, warehouse):
    import duckdb

    from infra.usage.warehouse import create_table_sql, unique_duckdb_sql

    with duckdb.connect(str(warehouse.path)) as connection:  # as the former warehouse left it
        connection.execute(create_table_sql())
        connection.execute(
            "INSERT INTO usage_events (event_id, event_ts, kind, user_id, cost_usd, pricing_version) VALUES "
            "('e1', '2026-01-01 10:00:00+00', 'download', 'a', 0, 'v'), "
            "('e1', '2026-01-01 10:00:00+00', 'download', 'a', 0, 'v'), "
            "('e2', '2026-01-02 10:00:00+00', 'download', 'b', 0, 'v')"
        )
        connection.execute(f"CREATE VIEW usage_events_unique AS {unique_duckdb_sql().replace('usage.main.', '')}")
    assert _unique_events(warehouse) == [("e1", "a"), ("e2", "b")]
    with warehouse.connection() as connection:
        kind = connection.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = 'usage_events_unique'"
        ).fetchone()
    assert kind == ("BASE TABLE",)
