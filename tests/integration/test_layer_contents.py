"""The layer leaves out what logship never runs (shared/Makefile): ship-logs works without it, and says nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import search_all

ROOT = Path(__file__).parents[2]
# What shared/Makefile removes from the layer, as module names.
LEFT_OUT = ("charset_normalizer", "opensearchpy._async.client", "opensearchpy._async.plugins")

SHIP = """
import importlib.abc, json, sys, warnings

class LeftOut(importlib.abc.MetaPathFinder):  # as in the layer: these modules are not there
    def find_spec(self, name, path=None, target=None):
        if any(name == gone or name.startswith(gone + ".") for gone in %(left_out)r):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, LeftOut())
warnings.simplefilter("always")  # any warning at import would show
import app
from tests.payloads import encode, load

class Context:
    function_name = "logship-ship-logs"
    def get_remaining_time_in_millis(self):
        return 30_000

app.handler(encode(load("cwl_python_runtime")), Context())
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("charset_normalizer", "chardet")
                        or m.startswith(("opensearchpy._async.client", "opensearchpy._async.plugins")))))
"""


def test_the_makefile_leaves_out_exactly_these():
    makefile = (ROOT / "shared" / "Makefile").read_text()
    unused = re.search(r"^UNUSED = (.+)$", makefile, re.M)[1].split()

    assert {path.split("-")[0].replace("/", ".") for path in unused if not path.endswith(".dist-info")} - {"bin"} \
        == set(LEFT_OUT)


def test_ship_logs_ships_without_them_and_prints_no_warning(opensearch, osmem_clone):
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'functions/ship_logs'}:{ROOT / 'shared'}:{ROOT}",
           "OPENSEARCH_ENDPOINT": osmem_clone.url, "OPENSEARCH_AUTH": "none", "AWS_REGION": "eu-west-1"}
    done = subprocess.run([sys.executable, "-c", SHIP % {"left_out": LEFT_OUT}], env=env, capture_output=True,
                          text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no RequestsDependencyWarning, nor anything else
    summary = json.loads(done.stdout.splitlines()[0])
    assert summary["indexed"] == summary["events_in"] > 0
    assert json.loads(done.stdout.splitlines()[-1]) == []  # none of them was loaded
    assert len(search_all(opensearch)) == summary["events_in"]
