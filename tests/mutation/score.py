"""The mutation score per module from mutmut's results (mutants/**/*.meta), with the survivors.

    .venv/bin/python tests/mutation/score.py     (after `mutmut run`; `make mutation` runs both)

Survivors explained as equivalent (a change no behaviour can see) are listed in
tests/mutation/equivalent.txt, one mutant name per line with the reason after a `#`; they
count as neither killed nor survived. Exits 1 when the score is under the target.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = 0.90
KILLED = {1, 3, 37}  # a failing test, an error in pytest, a type check (mutmut's own reading of exit codes)
SURVIVED = {0}
# The rest (5, 33: no test covers it; 24, 36, 152, 255, -24: a timeout) count against the score:
# a mutant no test runs, or one that hangs, is not caught by a test that names it.


def equivalent_mutants() -> dict[str, str]:
    path = Path(__file__).with_name("equivalent.txt")
    found: dict[str, str] = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        name, _, why = line.partition("#")
        if name.strip():
            found[name.strip()] = why.strip()
    return found


def main() -> int:
    equivalent = equivalent_mutants()
    metas = sorted((ROOT / "mutants").rglob("*.py.meta"))
    if not metas:
        print("no mutmut results: run `make mutation`", file=sys.stderr)
        return 2
    all_killed = all_counted = 0
    survivors: list[str] = []
    not_run: list[str] = []
    for meta in metas:
        results: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        if not results:
            continue
        module = str(meta.relative_to(ROOT / "mutants")).removesuffix(".meta")
        counted = {name: code for name, code in results.items() if name not in equivalent}
        killed = sum(1 for code in counted.values() if code in KILLED)
        all_killed += killed
        all_counted += len(counted)
        unchecked = sum(1 for code in counted.values() if code is None)
        note = f", {unchecked} not run yet" if unchecked else ""
        print(f"{module:40} {killed:4}/{len(counted):<4} killed ({killed / len(counted):.0%}){note}")
        survivors += [
            f"  {name}: exit {code}" for name, code in counted.items() if code not in KILLED and code is not None
        ]
        not_run += [name for name, code in counted.items() if code is None]
    score = all_killed / all_counted if all_counted else 1.0
    if survivors:
        print("survivors (`.venv/bin/mutmut show NAME` shows the change):")
        print("\n".join(survivors))
    if not_run:  # a run stopped early: they count against the score until they are run
        functions = sorted({name.rsplit("__mutmut_", 1)[0] for name in not_run})
        print(f"not run yet: {len(not_run)} mutants of " + ", ".join(functions))
    print(f"python: {all_killed}/{all_counted} mutants killed ({score:.1%}; target {TARGET:.0%})", end="")
    print(f"; {len(equivalent)} explained as equivalent")
    return 0 if score >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
