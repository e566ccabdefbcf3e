import logging
import sys

import pytest


@pytest.fixture(autouse=True)
def _logs_to_the_current_stderr():
    """diffusers and transformers give their loggers a handler bound to sys.stderr as it was
    when they were first imported, and the job's JSON logging gives the root one. A second
    pytest session in the same process (mutmut runs the tests several times in one) finds
    that stream closed, and the job's one-line error would come with a "Logging error"
    traceback. Each test re-points them to today's stderr."""
    for name in ("", "diffusers", "transformers"):  # "": the root
        for handler in logging.getLogger(name).handlers:
            if type(handler) is logging.StreamHandler:  # theirs; not pytest's own capturing handlers
                handler.stream = sys.stderr  # not setStream: it flushes the old stream, which may be closed
