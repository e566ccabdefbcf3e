"""The usage table and its views, defined once for BigQuery and the local reports.

`usage_events.schema.json` is the table in BigQuery's JSON schema format;
`usage_events.avsc` is the same record as the usage topic's Avro schema;
`usage_events_unique.sql` is the view that keeps one copy of each event (delivery is at
least once), and `views/*.sql` are the reports, BigQuery standard SQL reading that view
as `${project}.${dataset}.usage_events_unique`. Terraform fills the placeholders with
templatefile(); `view_sql` fills them here.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from string import Template

HERE = Path(__file__).parent
TABLE = "usage_events"
#: The table's events, each once: what every report reads.
UNIQUE = "usage_events_unique"
VIEWS_DIR = HERE / "views"


@cache
def table_schema() -> list[dict]:
    return json.loads((HERE / f"{TABLE}.schema.json").read_text())


@cache
def avro_schema() -> dict:
    return json.loads((HERE / f"{TABLE}.avsc").read_text())


def view_names() -> list[str]:
    return sorted(path.stem for path in VIEWS_DIR.glob("*.sql"))


def unique_sql(project: str, dataset: str) -> str:
    return Template((HERE / f"{UNIQUE}.sql").read_text()).substitute(project=project, dataset=dataset)


def view_sql(name: str, project: str, dataset: str) -> str:
    if name not in view_names():
        raise KeyError(f"no view {name!r}; the views are {', '.join(view_names())}")
    return Template((VIEWS_DIR / f"{name}.sql").read_text()).substitute(project=project, dataset=dataset)
