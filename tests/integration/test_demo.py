"""`make demo` runs the whole flow on local stand-ins and reports what a user should see."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.doc_pages import example_queries

ROOT = Path(__file__).parents[2]


def test_demo_runs_the_whole_flow():
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'cli'}:{ROOT}"}
    done = subprocess.run([sys.executable, str(ROOT / "scripts/demo.py")], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False, stdin=subprocess.DEVNULL)

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "SUCCESS: index template logship-cwl for cwl-YYYY.MM.DD and cwl-failed-YYYY.MM.DD" in out
    assert "retention: not installed here: osmem-server, the local stand-in, has no lifecycle API" in out
    assert "400" not in out.split("==> 2.")[0]  # no raw refusal from the stand-in
    assert "seen=4, subscribed=2, already_subscribed=0, excluded=2" in out  # legacy-* and the shipper's own
    assert "skipped /aws/lambda/legacy-report: excluded by ExcludeLogGroups: /aws/lambda/legacy-*" in out
    assert "skipped /aws/lambda/logship-ship-logs: one of this stack's own log groups" in out
    assert "skipped /ecs/web: outside IncludePrefixes: /aws/lambda/" in out
    assert "/aws/lambda/orders-api: subscribed" in out
    assert re.search(r"/aws/lambda/legacy-report\s+\(not subscribed\)", out)
    assert re.search(r"\n\s+checkout\s+13 documents\n", out)
    assert re.search(r"\n\s+image-resize\s+11 documents\n", out)
    assert re.search(r"index cwl-2025\.11\.22\s+60 documents\n\s+index cwl-2025\.11\.23\s+3 documents", out)
    queries = example_queries()
    assert out.count("$ logship search '") == len(queries)
    for query in queries.values():  # each README query, through the command, finds what the README promises
        found = re.search(r"(\d+) of (\d+) hit\(s\) in cwl-2\*,cwl-failed-\*", out.split(f"$ logship search '{query}'")[1])
        assert found, query
        assert int(found[1]) >= 1, query
    assert "3 of 3 hit(s) in cwl-2*,cwl-failed-*, newest first" in out
    assert "2 of 2 hit(s) in cwl-2*,cwl-failed-*, newest first" in out  # cold starts: a REPORT as delivered, one copied
    assert "checkout              ERROR  " in out  # hits as logship search prints them
    assert "make demo KEEP=1" in out


def test_the_demo_runs_with_data_streams_too():
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'cli'}:{ROOT}", "INDEX_MODE": "datastream"}
    done = subprocess.run([sys.executable, str(ROOT / "scripts/demo.py")], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False, stdin=subprocess.DEVNULL)

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "stand-in data streams (osmem-server has none): logs-aws.lambda-default, logs-aws.lambda.failed-default" \
        in out
    assert re.search(r"index \.ds-logs-aws\.lambda-default-000001\s+\d+ documents", out)
    assert "cwl-2025" not in out  # no daily index: every document went to the stream
    assert "3 of 3 hit(s) in logs-aws.lambda-default,logs-aws.lambda.failed-default, newest first" in out


def test_keep_keeps_the_cluster_running_and_prints_the_commands_to_try():
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'cli'}:{ROOT}"}
    demo = subprocess.Popen([sys.executable, str(ROOT / "scripts/demo.py"), "--keep"], env=env, cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    printed = ""
    try:
        while "_cat/indices" not in printed:  # the last command offered, just before it waits for Enter
            line = demo.stdout.readline()
            assert line, printed
            printed += line
        url = re.search(r"osmem-server keeps running at (http://127\.0\.0\.1:\d+)", printed)[1]
        with urllib.request.urlopen(f"{url}/cwl-*/_count", timeout=10) as answer:  # still up, still holding it all
            count = json.loads(answer.read())["count"]
        demo.stdin.write("\n")
        demo.stdin.close()
        rest = demo.stdout.read()  # what the line reader above already buffered, and the rest
        demo.wait(timeout=60)
    finally:
        demo.kill()

    assert count == sum(int(n) for n in re.findall(r"index cwl-\S+\s+(\d+) documents", printed))
    assert count > 0
    assert f"export LOGSHIP_ENDPOINT={url} LOGSHIP_AUTH=none" in printed
    assert "logship search 'log.level:ERROR'" in printed
    assert f"curl '{url}/cwl-2*,cwl-failed-*/_search?q=error&pretty'" in printed
    assert "Press Enter (or Ctrl-C) to stop osmem-server." in rest
    assert demo.returncode == 0
