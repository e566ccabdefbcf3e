import subprocess
import sys

from infra.pricing import PRICING_VERSION
from infra.usage import UsageEvent
from infra.usage_duckdb import DuckDBUsageSink
from tests.conftest import ROOT


def test_events_are_stored_with_every_field(tmp_path):
    sink = DuckDBUsageSink(tmp_path / "usage.duckdb")
    event = UsageEvent(
        kind="dialogue_turn",
        user_id="u",
        model="offline",
        tokens_in=12,
        tokens_out=40,
        attributes={"language": "ru", "note": "сцена"},
    )
    sink.record(event)
    [stored] = sink.events()
    assert stored["event_id"] == event.event_id and stored["kind"] == "dialogue_turn"
    assert (stored["tokens_in"], stored["tokens_out"], stored["cost_usd"]) == (12, 40, 0.0)
    assert stored["pricing_version"] == PRICING_VERSION
    assert stored["attributes"] == '{"language": "ru", "note": "сцена"}'


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "usage.duckdb"
    writer = (
        "import sys; from pathlib import Path; from infra.usage import UsageEvent; "
        "from infra.usage_duckdb import DuckDBUsageSink; s = DuckDBUsageSink(Path(sys.argv[1])); "
        "[s.record(UsageEvent(kind='download', user_id=sys.argv[2])) for _ in range(25)]"
    )
    processes = [subprocess.Popen([sys.executable, "-c", writer, str(path), name], cwd=ROOT) for name in ("a", "b")]
    assert [p.wait(timeout=120) for p in processes] == [0, 0]
    events = DuckDBUsageSink(path).events()
    assert len(events) == 50 and {e["user_id"] for e in events} == {"a", "b"}


def test_no_file_means_no_events(tmp_path):
    assert DuckDBUsageSink(tmp_path / "none.duckdb").events() == []
