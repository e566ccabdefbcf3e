"""One JSON log line per request, with its latency and status."""

from __future__ import annotations

import logging
import time

from flask import Flask, g, request

from infra import json_logging

log = logging.getLogger("frontend_service.request")


def init(app: Flask) -> None:
    if not app.testing:
        json_logging.configure()

    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _log(response):
        latency = time.perf_counter() - g.get("request_started", time.perf_counter())
        severity = logging.ERROR if response.status_code >= 500 else logging.INFO
        log.log(
            severity,
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "fields": {
                    "httpRequest": {
                        "requestMethod": request.method,
                        "requestUrl": request.path,
                        "status": response.status_code,
                        "latency": f"{latency:.4f}s",
                    }
                }
            },
        )
        return response
