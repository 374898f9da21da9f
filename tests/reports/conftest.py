"""The report tests share the simulator tests' helpers (tests/sim/sim_helpers.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "sim"))
