"""A stack trace that arrives as several consecutive events of one stream is searchable as one error:
the line it continues gets ``error.stack_trace``, each continuation line keeps its own document and gets
that line's request id and level. State lives for one batch only."""

from __future__ import annotations

import copy

from logship.ship.documents import DocumentBuilder
from logship.ship.payload import parse_batch
from tests.payloads import encode, load

builder = DocumentBuilder(index_prefix="cwl", region="eu-west-1")


def documents(payload: dict) -> list[dict]:
    return [d.source for d in builder.build(parse_batch(encode(payload)))]


def per_line(fixture: str, index: int, extra: tuple[str, ...] = ()) -> dict:
    """The fixture's event ``index`` split into one event per line, as stdout/stderr writes arrive."""
    payload = copy.deepcopy(load(f"cwl_rt_{fixture}"))
    event = payload["logEvents"][index]
    lines = [*event["message"].rstrip("\n").split("\n"), *extra]
    payload["logEvents"] = [{"id": f"{event['id'][:-3]}{i:03d}", "timestamp": event["timestamp"] + i, "message": text}
                            for i, text in enumerate(lines)]
    return payload


def test_a_java_stack_printed_line_by_line_joins_the_line_it_continues():
    docs = documents(per_line("java_slf4j", 0))
    head, exception, *frames = docs
    assert head["message"] == "uk.bot_by.slf4j_demo.BotHandler - printable stacktrace"
    assert head["error"]["type"] == "java.lang.Throwable"
    assert head["error"]["message"] == "Printable Stacktrace Demo"
    assert head["error"]["stack_trace"].split("\n") == [d["message"] for d in docs[1:]]
    for continuation in (exception, *frames):
        assert continuation["faas"]["execution"] == "983f71e5-9091-443b-8c01-6668120c0e5d"
        assert continuation["log"]["level"] == "WARN"
        assert continuation["faas"]["name"] == "slf4j-demo"  # the batch's fields are kept
    assert len(docs) == 9


def test_caused_by_and_more_lines_continue_the_stack():
    # The continuation shapes the issue names, after the real frames above.
    docs = documents(per_line("java_slf4j", 0, ("Caused by: java.lang.IllegalStateException: inner", "\t... 12 more")))
    assert docs[0]["error"]["stack_trace"].endswith("Caused by: java.lang.IllegalStateException: inner\n\t... 12 more")
    assert docs[-1]["log"]["level"] == "WARN"
    assert docs[-2]["faas"]["execution"] == "983f71e5-9091-443b-8c01-6668120c0e5d"


def test_a_python_traceback_printed_line_by_line():
    head, traceback, frame = documents(load("cwl_rt_python_traceback_per_line"))
    assert "error" not in head  # a plain text line: nothing says it starts the traceback
    assert traceback["error"]["stack_trace"] == (
        'Traceback (most recent call last):\n  File "/var/task/handlers/lambda_handler.py", line 66, in _run_action')
    assert traceback["log"]["level"] == "ERROR"
    assert frame["log"]["level"] == "ERROR"
    assert "execution" not in frame["faas"]  # nothing in this stream carries a request id


def test_a_go_panic_printed_line_by_line():
    panic, *rest = documents(load("cwl_rt_go_panic_per_line"))
    assert panic["error"]["type"] == "panic"
    assert panic["error"]["stack_trace"].split("\n") == [panic["message"], *(d["message"] for d in rest)]
    assert all(d["log"]["level"] == "ERROR" for d in rest)


def test_a_new_log_line_ends_the_stack():
    payload = per_line("java_slf4j", 0)
    frames = payload["logEvents"][2:4]
    info = {"id": frames[0]["id"][:-3] + "900", "timestamp": frames[0]["timestamp"],
            "message": "983f71e5-9091-443b-8c01-6668120c0e5d INFO uk.bot_by.slf4j_demo.BotHandler - next"}
    payload["logEvents"] = [*payload["logEvents"][:3], info, {**frames[1], "id": frames[1]["id"][:-3] + "901"}]
    docs = documents(payload)
    assert docs[0]["error"]["stack_trace"].count("\n") == 1  # the exception line and one frame
    assert docs[3]["log"]["level"] == "INFO"
    assert "error" not in docs[3]
    assert "log" not in docs[4]  # a frame after another line is not guessed to belong to anything


def test_at_a_batch_boundary_each_part_stands_alone():
    whole = per_line("java_slf4j", 0)
    first, second = copy.deepcopy(whole), copy.deepcopy(whole)
    first["logEvents"], second["logEvents"] = whole["logEvents"][:4], whole["logEvents"][4:]
    head = documents(first)[0]
    assert head["error"]["stack_trace"].count("\n") == 2  # the part of the stack this batch saw
    later = documents(second)
    assert all("log" not in d and "execution" not in d["faas"] for d in later)  # no head in this batch
    assert [d["message"] for d in later] == [e["message"] for e in whole["logEvents"][4:]]
