"""Tests of pgview_auto's Python adapter (run_tests.sh runs them against a server)."""
import warnings

from sqlalchemy.exc import SAWarning

warnings.filterwarnings("error", category=SAWarning)  # a warning of ours is a failure
