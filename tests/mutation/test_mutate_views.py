"""The SQL mutator makes the wrong changes it promises, on a view small enough to list them by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location("mutate_views", Path(__file__).with_name("mutate_views.py"))
assert spec and spec.loader
mutate_views = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mutate_views)

VIEW = "SELECT kind, COUNT(*) AS events, SUM(cost_usd) AS cost FROM t WHERE kind = 'render' AND n >= 2 GROUP BY kind"


def test_each_mutation_of_a_small_view():
    found = dict(mutate_views.mutants(VIEW))
    assert sorted(found) == sorted(
        [
            "COUNT(*) → +1",
            "SUM(cost_usd) → Max",
            "drop WHERE kind = 'render' AND n >= 2",
            "drop n >= 2",
            "drop kind = 'render'",
            "kind = 'render' → NEQ",
            "'render' → 'xrender'",
            "n >= 2 → GT",
            "2 → 3",
        ]
    )
    flat = {name: " ".join(sql.split()) for name, sql in found.items()}
    assert "COUNT(*) + 1 AS events" in flat["COUNT(*) → +1"]
    assert "MAX(cost_usd) AS cost" in flat["SUM(cost_usd) → Max"]
    assert "WHERE" not in flat["drop WHERE kind = 'render' AND n >= 2"]
    assert flat["drop n >= 2"].endswith("WHERE kind = 'render' GROUP BY kind")
    assert "kind <> 'render'" in flat["kind = 'render' → NEQ"]
    assert "n > 2" in flat["n >= 2 → GT"] and "n >= 3" in flat["2 → 3"]


def test_a_dedup_window_loses_its_partition_or_its_order():
    sql = "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY ts) AS copy FROM t) WHERE copy = 1"
    found = {name: " ".join(mutated.split()) for name, mutated in mutate_views.mutants(sql)}
    assert "OVER (ORDER BY ts)" in found["window PARTITION BY dropped"]
    assert "ORDER BY ts DESC" in found["window ORDER BY reversed"]
    assert "copy = 2" in found["1 → 2"]
