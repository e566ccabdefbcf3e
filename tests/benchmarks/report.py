"""How every benchmark leaves its figures: bench-results/NAME.json and a table on stdout."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def report(name: str, results: dict, targets: dict[str, str], digits: int = 3, path: Path | None = None) -> None:
    """Writes the results and prints them, each with its target (e.g. '<= 0.8') where it has one."""
    out = path or ROOT / "bench-results" / f"{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    width = max(map(len, results))
    for key, value in results.items():
        shown = f"{value:.{digits}g}" if isinstance(value, float) else value
        target = next((f"   (target {t})" for k, t in targets.items() if key == k or key.endswith(f".{k}")), "")
        print(f"{key:<{width}}  {shown}{target}")
    print(f"written to {out}")
