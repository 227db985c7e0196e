"""`make demo` runs the whole flow on local stand-ins and reports what a user should see."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_demo_runs_the_whole_flow():
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT}"}
    done = subprocess.run([sys.executable, str(ROOT / "scripts/demo.py")], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "SUCCESS: index template logship-cwl for cwl-*" in out
    assert "seen=4, subscribed=2, already_subscribed=0, excluded=2" in out  # legacy-* and the shipper's own
    assert "/aws/lambda/orders-api: subscribed" in out
    assert re.search(r"/aws/lambda/legacy-report\s+\(not subscribed\)", out)
    assert re.search(r"cwl-2025\.11\.22\s+40\n\s+cwl-2025\.11\.23\s+3\n", out)
    # errors of one function, one correlation id, functions that cannot load their code (README, Fields)
    assert out.count("-> 3 hit(s)") == 3
    assert "-> 1 hit(s)" in out
