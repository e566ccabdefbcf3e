import logging
import sys

import pytest


@pytest.fixture(autouse=True)
def _logs_to_the_current_stderr():
    """Libraries (diffusers, transformers) and the job's JSON logging give loggers a handler
    bound to sys.stderr as it was when they were set up. A second pytest session in the same
    process (mutmut runs the tests several times in one) finds that stream closed, and the
    job's one-line error would come with a "Logging error" traceback. Each test re-points
    them to today's stderr."""
    loggers = [
        logging.getLogger(),
        *(v for v in logging.root.manager.loggerDict.values() if isinstance(v, logging.Logger)),
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler:  # theirs; not pytest's own capturing handlers
                handler.stream = sys.stderr  # not setStream: it flushes the old stream, which may be closed
