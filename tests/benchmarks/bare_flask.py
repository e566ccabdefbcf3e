"""The yardstick for the site's speed: the least a Flask app can do to answer a request,
returning the bytes in $BENCH_BODY_FILE (the site's answer to the same request) for any
path. bench_web.py serves it under the site's gunicorn settings and loads both alike."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

BODY = Path(os.environ["BENCH_BODY_FILE"]).read_bytes() if "BENCH_BODY_FILE" in os.environ else b"{}"

app = Flask(__name__)


@app.get("/", defaults={"anything": ""})
@app.get("/<path:anything>")
def answer(anything: str) -> Response:
    return Response(BODY, content_type="application/json")
