"""gunicorn settings for the site: its own log lines in the same one-line JSON as the app's."""

from gunicorn.glogging import Logger

from infra.json_logging import JsonFormatter


class JsonLogger(Logger):
    """gunicorn's log as JSON lines. No access log: the app logs every request itself, with
    its latency, and gunicorn would build an access entry per request even to discard it."""

    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        pass


logger_class = JsonLogger
workers = 2
threads = 4
graceful_timeout = 5
