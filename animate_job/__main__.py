"""`python -m animate_job ...`: see animate_job.cli."""

import os
import sys

# Library chatter (deprecations, optional backends) is not for the person at the terminal.
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

from animate_job.cli import main

sys.exit(main())
