"""gunicorn settings for the site: its own log lines in the same one-line JSON as the app's,
and the settings checked once before any worker starts."""

import sys

from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger

from frontend_service import MAX_REQUEST_BYTES
from infra.json_logging import JsonFormatter
from infra.settings import ConfigurationError, load_settings


class JsonLogger(Logger):
    """gunicorn's log as JSON lines. No access log: the app logs every request itself, with
    its latency, and gunicorn would build an access entry per request even to discard it."""

    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        pass


def post_worker_init(worker):
    """A worker whose stores cannot be reached does not serve: it exits with gunicorn's
    boot-error status, which stops gunicorn with that one line instead of a boot loop."""
    from frontend_service import services
    from infra.health import problems

    failing = problems(services.adapters(worker.wsgi))
    if failing:
        worker.log.error(
            "not ready, not serving: %s", "; ".join(f"{part}: {reason}" for part, reason in failing.items())
        )
        sys.exit(WORKER_BOOT_ERROR)


WORKER_BOOT_ERROR = Arbiter.WORKER_BOOT_ERROR


def pre_request(worker, req):
    """A body the site may answer without reading (too large, refused by the CSRF check or
    a rate limit) must be drained before the connection serves another request, and
    gunicorn drains less than 64 KiB. For a body of 64 KiB or more (the site's limit is the
    same), or of unknown length, it answers with `Connection: close` and closes; left to
    itself it says keep-alive, then drops the connection (RFC 9112 section 9.6)."""
    headers = dict(req.headers)
    if "TRANSFER-ENCODING" in headers or int(headers.get("CONTENT-LENGTH", 0)) >= MAX_REQUEST_BYTES:
        req.force_close()


logger_class = JsonLogger
workers = 2
threads = 4
graceful_timeout = 5


def on_starting(server):
    """A setting the site cannot use stops the master with one line, before it forks: a
    worker would fail the same way, and gunicorn would start it again and again."""
    try:
        load_settings()
    except ConfigurationError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        sys.exit(2)


# gunicorn's control socket (for gunicornc) defaults to one path per user: every site on
# the machine would take over the same one. Nothing here uses it.
control_socket_disable = True
