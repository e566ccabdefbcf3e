"""`/metrics` in Prometheus' text format: request latency, queue depth, renders by state."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from infra.records import FINISHED


class _RenderCollector:
    """Reads the queue and render counts from the records at scrape time."""

    def __init__(self, adapters):
        self._adapters = adapters

    def collect(self):
        depth = GaugeMetricFamily("animbooks_render_queue_depth", "Render requests waiting or in progress")
        depth.add_metric([], self._adapters.queue.depth())
        yield depth
        renders = GaugeMetricFamily("animbooks_renders", "Renders by state", labels=["state"])
        for state in ("queued", "running", *FINISHED):
            renders.add_metric([state], self._adapters.records.count_renders(state))
        yield renders


def init(app: Flask) -> None:
    registry = CollectorRegistry()
    latency = Histogram(
        "animbooks_request_seconds", "Request latency", ["method", "endpoint", "status"], registry=registry
    )
    registry.register(_RenderCollector(app.extensions["adapters"]))

    @app.before_request
    def _start():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.get("metrics_started")
        if started is not None:
            latency.labels(request.method, request.endpoint or "unknown", response.status_code).observe(
                time.perf_counter() - started
            )
        return response

    @app.get("/metrics")
    def metrics():
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
