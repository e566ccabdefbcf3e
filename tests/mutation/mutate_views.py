"""Mutation testing for the usage views' SQL, which mutmut (Python only) cannot change.

Each mutant is one small wrong change to one view, made on sqlglot's syntax tree of the
BigQuery SQL: a comparison turned, an aggregate swapped, a number or a count moved by one, a string
literal changed, a condition dropped, DISTINCT removed, arithmetic flipped. The view tests
run against a copy of the project with that one file changed; a mutant they pass survives.

    .venv/bin/python tests/mutation/mutate_views.py      (part of `make mutation`)

Prints each survivor and the score; exits 1 below the target.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

ROOT = Path(__file__).resolve().parents[2]
SQL_FILES = [*sorted((ROOT / "infra/bigquery/views").glob("*.sql")), ROOT / "infra/bigquery/usage_events_unique.sql"]
TESTS = ["tests/infra/test_usage_views.py", "tests/infra/test_channel_reactions_view.py"]
TARGET = 0.90

_TURNED: dict[type[exp.Expr], type[exp.Expr]] = {
    exp.EQ: exp.NEQ,
    exp.NEQ: exp.EQ,
    exp.GT: exp.GTE,
    exp.GTE: exp.GT,
    exp.LT: exp.LTE,
    exp.LTE: exp.LT,
    exp.Add: exp.Sub,
    exp.Sub: exp.Add,
    exp.Mul: exp.Div,
    exp.Div: exp.Mul,
    exp.Sum: exp.Max,
    exp.Max: exp.Min,
    exp.Min: exp.Max,
    exp.Avg: exp.Sum,
}

Mutation = Callable[[Any], exp.Expr | None]  # a node in, its replacement out (None: remove it)


def _turned_into(kind: type[exp.Expr]) -> Mutation:
    return lambda node: kind(**node.args)


def _number(value: int) -> Mutation:
    return lambda node: exp.Literal.number(value)


def _mutations(node: Any) -> Iterator[tuple[str, Mutation]]:
    """The wrong changes one node admits, each named for the survivor list."""
    turned = _TURNED.get(type(node))
    if turned is not None:
        yield (
            f"{node.sql('bigquery')} → {turned.__name__}",
            _turned_into(turned),
        )
    if isinstance(node, exp.Literal) and node.is_int:
        value = int(node.this)
        yield f"{value} → {value + 1}", _number(value + 1)
    if isinstance(node, exp.Literal) and node.is_string and node.this:
        yield f"'{node.this}' → 'x{node.this}'", lambda n: exp.Literal.string("x" + n.this)
    if isinstance(node, (exp.Count, exp.CountIf)):
        yield f"{node.sql('bigquery')} → +1", lambda n: exp.Add(this=n.copy(), expression=exp.Literal.number(1))
    if isinstance(node, exp.And):
        yield f"drop {node.right.sql('bigquery')}", lambda n: n.left.copy()
        yield f"drop {node.left.sql('bigquery')}", lambda n: n.right.copy()
    if isinstance(node, exp.Distinct) and isinstance(node.parent, exp.Count):
        yield "COUNT(DISTINCT x) → COUNT(x)", lambda n: n.expressions[0].copy()
    if isinstance(node, exp.Where):
        yield f"drop WHERE {node.this.sql('bigquery')}", lambda n: None
    if isinstance(node, exp.Order) and isinstance(node.parent, exp.Window):
        yield (
            "window ORDER BY reversed",
            lambda n: exp.Order(
                expressions=[exp.Ordered(this=o.this.copy(), desc=not o.args.get("desc")) for o in n.expressions]
            ),
        )
    if isinstance(node, exp.Window) and node.args.get("partition_by"):
        yield (
            "window PARTITION BY dropped",
            lambda n: exp.Window(**{k: v for k, v in n.args.items() if k != "partition_by"}),
        )


def mutants(sql: str) -> Iterator[tuple[str, str]]:
    """(description, mutated SQL) for every mutation of every node, in a fixed order."""
    count = len([m for node in sqlglot.parse_one(sql, read="bigquery").walk() for m in _mutations(node)])
    for k in range(count):
        tree = sqlglot.parse_one(sql, read="bigquery")  # a fresh tree per mutant
        candidates = [(node, m) for node in tree.walk() for m in _mutations(node)]
        node, (name, mutate) = candidates[k]
        replacement = mutate(node)
        if replacement is None:
            node.pop()
        else:
            node.replace(replacement)
        yield name, tree.sql(dialect="bigquery", pretty=True)


def _tests_pass(copy: Path) -> bool:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *TESTS],
        cwd=copy,
        capture_output=True,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(copy)},
        timeout=600,
    )
    return run.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="one view's file name, e.g. daily_cost.sql")
    args = parser.parse_args(argv)
    killed = survived = 0
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "project"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv*", ".git", "mutants", ".data", "__pycache__"))
        if not _tests_pass(copy):
            print("the view tests fail with no mutation; fix them first", file=sys.stderr)
            return 2
        for path in SQL_FILES:
            if args.only and path.name != args.only:
                continue
            target = copy / path.relative_to(ROOT)
            original = path.read_text()
            file_killed = file_survived = 0
            for name, mutated in mutants(original):
                target.write_text(mutated)
                if _tests_pass(copy):
                    file_survived += 1
                    print(f"  survived: {path.name}: {name}")
                else:
                    file_killed += 1
            target.write_text(original)
            total = file_killed + file_survived
            print(f"{path.name}: {file_killed}/{total} killed")
            killed += file_killed
            survived += file_survived
    total = killed + survived
    score = killed / total if total else 1.0
    print(f"view SQL: {killed}/{total} mutants killed ({score:.0%}; target {TARGET:.0%})")
    return 0 if score >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
