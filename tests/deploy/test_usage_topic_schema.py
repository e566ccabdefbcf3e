"""The usage topic's Avro schema against the usage table, by the rules Pub/Sub documents
for BigQuery subscriptions that use the topic schema (use_topic_schema = true):
"BigQuery subscriptions", schema compatibility and the Avro to BigQuery type mapping.
A message the table cannot take is not written, so a mismatch loses usage events.
"""

from __future__ import annotations

import copy

import pytest

from infra.bigquery import avro_schema, table_schema

# Avro type -> the BigQuery column types it may be written to (the documented mapping;
# INT64, FLOAT64 and BOOL are the standard SQL names of INTEGER, FLOAT and BOOLEAN).
PRIMITIVES = {
    "boolean": {"BOOLEAN"},
    "int": {"INTEGER", "NUMERIC", "BIGNUMERIC"},
    "long": {"INTEGER", "NUMERIC", "BIGNUMERIC"},
    "float": {"FLOAT", "NUMERIC", "BIGNUMERIC"},
    "double": {"FLOAT", "NUMERIC", "BIGNUMERIC"},
    "bytes": {"BYTES", "NUMERIC", "BIGNUMERIC"},
    "string": {"STRING", "JSON", "TIMESTAMP", "DATETIME", "DATE", "TIME", "NUMERIC", "BIGNUMERIC"},
}
LOGICAL = {
    ("long", "timestamp-micros"): {"TIMESTAMP"},
    ("long", "timestamp-millis"): {"TIMESTAMP"},
    ("long", "local-timestamp-micros"): {"DATETIME"},
    ("long", "local-timestamp-millis"): {"DATETIME"},
    ("int", "date"): {"DATE"},
    ("long", "time-micros"): {"TIME"},
    ("int", "time-millis"): {"TIME"},
    ("bytes", "decimal"): {"NUMERIC", "BIGNUMERIC"},
}
ALIASES = {"INT64": "INTEGER", "FLOAT64": "FLOAT", "BOOL": "BOOLEAN", "DECIMAL": "NUMERIC", "BIGDECIMAL": "BIGNUMERIC"}


def column_types(avro_type) -> set[str] | None:
    """The BigQuery types a non-null Avro type maps to; None when unmappable."""
    if isinstance(avro_type, str):
        return PRIMITIVES.get(avro_type)
    if isinstance(avro_type, dict):
        if "logicalType" in avro_type:
            return LOGICAL.get((avro_type["type"], avro_type["logicalType"]))
        return PRIMITIVES.get(avro_type["type"])
    return None


def incompatibilities(avro: dict, table: list[dict]) -> list[str]:
    columns = {column["name"]: column for column in table}
    problems = []
    for field in avro["fields"]:
        name, avro_type = field["name"], field["type"]
        column = columns.get(name)
        if column is None:
            problems.append(f"{name}: not a column of the table (the subscription would refuse the schema)")
            continue
        nullable = isinstance(avro_type, list)
        if nullable:
            # Only a union of null and one other type maps, to a NULLABLE column.
            others = [branch for branch in avro_type if branch != "null"]
            if "null" not in avro_type or len(avro_type) != 2:
                problems.append(f"{name}: the union {avro_type} has no BigQuery type (only [null, T] maps)")
                continue
            if "default" in field and field["default"] is None and avro_type[0] != "null":
                problems.append(f"{name}: a null default needs null as the union's first branch (Avro spec)")
            avro_type = others[0]
        mode = column.get("mode", "NULLABLE")
        if nullable and mode != "NULLABLE":
            problems.append(f"{name}: the topic may send null, the column is {mode}")
        if mode == "REPEATED":
            problems.append(f"{name}: a REPEATED column needs an Avro array")
        allowed = column_types(avro_type)
        bigquery_type = ALIASES.get(column["type"], column["type"])
        if allowed is None:
            problems.append(f"{name}: Avro {avro_type} has no BigQuery type")
        elif bigquery_type not in allowed:
            problems.append(f"{name}: Avro {avro_type} cannot be written to a {column['type']} column")
    fields = {field["name"] for field in avro["fields"]}
    for name, column in columns.items():
        if name not in fields and column.get("mode") == "REQUIRED":
            problems.append(f"{name}: a REQUIRED column the topic never fills")
    return problems


def test_the_usage_topic_schema_fits_the_usage_table():
    assert incompatibilities(avro_schema(), table_schema()) == []


def test_field_by_field():
    """Worked out by hand from the two files and the documented mapping."""
    expected = {
        "event_id": ("string", "STRING", "REQUIRED"),
        "event_ts": ({"type": "long", "logicalType": "timestamp-micros"}, "TIMESTAMP", "REQUIRED"),
        "kind": ("string", "STRING", "REQUIRED"),
        "user_id": (["null", "string"], "STRING", "NULLABLE"),
        "scene_id": (["null", "string"], "STRING", "NULLABLE"),
        "render_id": (["null", "string"], "STRING", "NULLABLE"),
        "model": (["null", "string"], "STRING", "NULLABLE"),
        "tokens_in": (["null", "long"], "INT64", "NULLABLE"),
        "tokens_out": (["null", "long"], "INT64", "NULLABLE"),
        "frames": (["null", "long"], "INT64", "NULLABLE"),
        "gpu_seconds": (["null", "double"], "FLOAT64", "NULLABLE"),
        "wall_seconds": (["null", "double"], "FLOAT64", "NULLABLE"),
        "status": (["null", "string"], "STRING", "NULLABLE"),
        "cost_usd": ("double", "FLOAT64", "REQUIRED"),
        "pricing_version": ("string", "STRING", "REQUIRED"),
        "attributes": (["null", "string"], "STRING", "NULLABLE"),
        # The Telegram channel's reactions (issue 16), appended: BigQuery adds columns at the end in place.
        "channel_id": (["null", "string"], "STRING", "NULLABLE"),
        "post_id": (["null", "long"], "INT64", "NULLABLE"),
        "likes": (["null", "long"], "INT64", "NULLABLE"),
        "dislikes": (["null", "long"], "INT64", "NULLABLE"),
        "subscribers": (["null", "long"], "INT64", "NULLABLE"),
        # A render's clip length (issue 17: 30- and 60-second clips), appended the same way.
        "clip_seconds": (["null", "long"], "INT64", "NULLABLE"),
    }
    avro = {field["name"]: field["type"] for field in avro_schema()["fields"]}
    table = {column["name"]: (column["type"], column["mode"]) for column in table_schema()}
    assert list(avro) == list(table) == list(expected)
    for name, (avro_type, column_type, mode) in expected.items():
        assert (avro[name], *table[name]) == (avro_type, column_type, mode), name


def changed(edit) -> list[str]:
    avro = copy.deepcopy(avro_schema())
    fields = {field["name"]: field for field in avro["fields"]}
    columns = {column["name"]: column for column in copy.deepcopy(table_schema())}
    edit(fields, columns)
    return incompatibilities(avro | {"fields": list(fields.values())}, list(columns.values()))


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            lambda avro, table: avro["event_ts"].update(type="long"),
            "event_ts: Avro long cannot be written to a TIMESTAMP column",
        ),
        (
            lambda avro, table: avro["event_ts"].update(type={"type": "long", "logicalType": "timestamp-nanos"}),
            "event_ts: Avro {'type': 'long', 'logicalType': 'timestamp-nanos'} has no BigQuery type",
        ),
        (
            lambda avro, table: table["user_id"].update(mode="REQUIRED"),
            "user_id: the topic may send null, the column is REQUIRED",
        ),
        (
            lambda avro, table: avro["frames"].update(type=["null", "long", "string"]),
            "frames: the union ['null', 'long', 'string'] has no BigQuery type (only [null, T] maps)",
        ),
        (
            lambda avro, table: avro["model"].update(type=["string", "null"]),
            "model: a null default needs null as the union's first branch (Avro spec)",
        ),
        (
            lambda avro, table: avro["cost_usd"].update(type="string") or table["cost_usd"].update(type="FLOAT64"),
            None,  # a string may go into a NUMERIC column, but not into a FLOAT64 one
        ),
        (
            lambda avro, table: table.pop("status"),
            "status: not a column of the table (the subscription would refuse the schema)",
        ),
    ],
)
def test_a_mismatch_is_found(edit, problem):
    problems = changed(edit)
    if problem is None:
        assert problems == ["cost_usd: Avro string cannot be written to a FLOAT64 column"]
    else:
        assert problems == [problem]


def test_a_required_column_the_topic_never_fills_is_found():
    avro, table = copy.deepcopy(avro_schema()), copy.deepcopy(table_schema())
    avro["fields"] = [field for field in avro["fields"] if field["name"] != "pricing_version"]
    assert incompatibilities(avro, table) == ["pricing_version: a REQUIRED column the topic never fills"]
