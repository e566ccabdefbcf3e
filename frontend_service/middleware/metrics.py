"""`/metrics` in Prometheus' text format: request latency, queue depth, renders by state
(failures among them) and how long renders take. Private: admins, or a scraper with the
bearer token ANIMBOOKS_METRICS_TOKEN (frontend_service.roles).

Render figures are read from the records at scrape time: under gunicorn only one
process runs the worker, and every process must report the same numbers."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from frontend_service import roles, services
from infra.domain.render import FINISHED

RENDER_SECONDS_BUCKETS = (5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
# Labels come from fixed sets, whatever a client sends: each new label value is a new
# series kept for the process's life, so a method name made up per request would grow
# /metrics without bound. Endpoints are the app's routes' names, "unknown" for no route.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class _RenderCollector:
    """Reads the queue, render counts and recent render durations from the records."""

    def __init__(self, adapters):
        self._adapters = adapters

    def collect(self):
        depth = GaugeMetricFamily("animbooks_render_queue_depth", "Render requests waiting or in progress")
        depth.add_metric([], self._adapters.queue.depth())
        yield depth
        renders = GaugeMetricFamily("animbooks_renders", "Renders by state", labels=["state"])
        for state in ("queued", "dispatching", "running", *FINISHED):
            renders.add_metric([state], self._adapters.records.count_renders(state))
        yield renders
        seconds = [taken for taken, _clip_seconds in self._adapters.records.recent_render_times()]
        buckets = [(str(bound), sum(1 for s in seconds if s <= bound)) for bound in RENDER_SECONDS_BUCKETS]
        buckets.append(("+Inf", len(seconds)))
        durations = HistogramMetricFamily(
            "animbooks_render_seconds", "Time to make a clip, latest 1000 succeeded renders"
        )
        durations.add_metric([], buckets, sum_value=sum(seconds))
        yield durations


def init(app: Flask) -> None:
    registry = CollectorRegistry()
    latency = Histogram(
        "animbooks_request_seconds", "Request latency", ["method", "endpoint", "status"], registry=registry
    )
    registry.register(_RenderCollector(services.adapters(app)))

    @app.before_request
    def _start():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.get("metrics_started")
        if started is not None:
            method = request.method if request.method in METHODS else "other"
            latency.labels(method, request.endpoint or "unknown", response.status_code).observe(
                time.perf_counter() - started
            )
        return response

    @app.get("/metrics")
    @roles.admin_or_scraper
    def metrics():
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
