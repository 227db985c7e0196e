"""A stack trace that arrives as several consecutive events of one stream is searchable as one error:
the line it continues gets ``error.stack_trace``, each continuation line keeps its own document and gets
that line's request id and level. State lives for one batch only."""

from __future__ import annotations

import copy

import pytest

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
    assert head["message"] == "printable stacktrace"
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


def continuations_of(head: dict, docs: list[dict]) -> list[dict]:
    """The documents whose lines the head's stack holds after its own."""
    lines = head["error"]["stack_trace"].split("\n")[1:]
    return docs[docs.index(head) + 1:][:len(lines)]


def test_a_java_uncaught_exception_printed_one_event_per_line():
    _start, head, *rest, end = documents(load("cwl_rt_java_uncaught_per_event"))
    assert head["log"]["level"] == "ERROR"
    assert head["error"]["type"] == "java.lang.IllegalStateException"
    assert head["error"]["message"] == "Could not load configuration"
    stack = head["error"]["stack_trace"].split("\n")
    assert stack == [head["message"], *(d["message"] for d in rest)]
    assert stack[3].startswith("Caused by: java.io.FileNotFoundException")
    assert stack[-1] == "\t... 17 more"
    assert all(d["log"]["level"] == "ERROR" for d in rest)
    assert end["event"]["action"] == "end"
    assert "log" not in end


def test_log4j2_stack_after_the_message_joins_the_line_that_logged_it():
    docs = documents(load("cwl_rt_java_log4j2_stack_per_event"))
    logged = docs[1]
    assert logged["message"] == "OpenAI call failed"
    assert logged["error"]["type"] == "java.lang.RuntimeException"
    assert logged["error"]["message"] == "HTTP 429 Too Many Requests"
    assert logged["error"]["stack_trace"].count("\n\tat ") == 2
    for continuation in continuations_of(logged, docs):
        assert continuation["log"]["level"] == "ERROR"
        assert continuation["faas"]["execution"] == "5d6e7f80-91a2-4b3c-8d4e-5f6a7b8c9d0e"
    assert docs[5]["log"] == {"level": "WARN", "logger": "ChatGPTLambda", "origin": {"file": {"line": 60}}}
    assert "error" not in docs[5]  # the next log line ends the stack


def test_a_dotnet_exception_with_an_inner_one_printed_one_event_per_line():
    _start, head, *rest, _end = documents(load("cwl_rt_dotnet_exception_per_event"))
    assert head["log"]["level"] == "ERROR"
    assert head["error"]["type"] == "System.InvalidOperationException"
    assert head["error"]["stack_trace"].split("\n") == [head["message"], *(d["message"] for d in rest)]
    assert [d["log"]["level"] for d in rest] == ["ERROR"] * 4


def test_a_node_stack_printed_one_event_per_line_ends_at_the_next_line():
    listening, head, *frames, access = documents(load("cwl_rt_node_stack_per_event"))
    assert "error" not in listening
    assert head["error"]["type"] == "TypeError"
    assert head["error"]["stack_trace"].split("\n") == [head["message"], *(d["message"] for d in frames)]
    assert len(frames) == 4
    assert all(d["log"]["level"] == "ERROR" for d in frames)
    assert "log" not in access
    assert "error" not in access


def test_a_plain_error_line_opens_a_stack_too():
    # Node names a plain Error "Error": nothing before the word.
    payload = per_line("node_stack_per_event", 0, ("Error: connect ECONNREFUSED 10.0.0.7:5432",
                                                   "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)"))
    *_, head, frame = documents(payload)
    assert head["error"] == {"type": "Error", "message": "connect ECONNREFUSED 10.0.0.7:5432",
                             "stack_trace": f"{head['message']}\n{frame['message']}"}
    assert frame["log"]["level"] == "ERROR"


def test_a_go_panic_keeps_its_blank_line_and_goroutines():
    payload = per_line("go_panic_per_line", 0, ("", "goroutine 1 [running]:", "main.main()",
                                                "\t/var/task/main.go:20 +0x25"))
    panic, *rest = documents(payload)
    assert panic["error"]["stack_trace"].split("\n") == [panic["message"], "", "goroutine 1 [running]:",
                                                         "main.main()", "\t/var/task/main.go:20 +0x25"]
    assert all(d["log"]["level"] == "ERROR" for d in rest)


def test_a_blank_line_ends_any_other_stack():
    payload = per_line("node_stack_per_event", 0, ("Error: boom", "", "    at handler (/var/task/index.js:3:9)"))
    *_, head, blank, frame = documents(payload)
    assert head["error"]["type"] == "Error"
    assert "stack_trace" not in head["error"]
    assert "log" not in blank
    assert "log" not in frame


def test_a_rust_panic_takes_its_message_from_the_next_line():
    docs = documents(load("cwl_rt_rust_tracing"))
    panic = next(d for d in docs if d["message"].startswith("thread 'main' panicked at"))
    message, note = continuations_of(panic, docs)
    assert panic["error"] == {"type": "panic", "message": "called `Option::unwrap()` on a `None` value",
                              "stack_trace": "\n".join((panic["message"], message["message"], note["message"]))}
    assert panic["log"]["level"] == message["log"]["level"] == note["log"]["level"] == "ERROR"


def test_a_rust_backtrace_joins_its_panic():
    _start, panic, *rest = documents(load("cwl_rt_rust_panic_backtrace"))
    assert panic["error"]["type"] == "panic"
    assert panic["error"]["message"] == "Could not retrieve next event"
    assert panic["error"]["stack_trace"].split("\n") == [panic["message"], *(d["message"] for d in rest)]
    assert rest[0]["message"] == "stack backtrace:"


@pytest.mark.parametrize("fixture", ["python312_unhandled", "python_json_uncaught"])
def test_python_unhandled_exception_hint_becomes_the_error(fixture):
    start, hint, error, *_ = documents(load(f"cwl_rt_{fixture}"))
    assert hint["message"].startswith("LAMBDA_WARNING: Unhandled exception.")
    assert hint["log"]["level"] == "ERROR"
    assert (hint["error"]["type"], hint["error"]["message"]) == ("KeyError", "'orderId'")
    assert 'order = event["orderId"]' in hint["error"]["stack_trace"]
    assert hint["faas"]["execution"] == error["faas"]["execution"] == start["faas"]["execution"]
    assert error["log"]["level"] == "ERROR"


def test_frames_after_another_requests_line_never_join_a_requests_error():
    """Managed Instances interleave requests in one stream: a line of request B between A's error and the frames
    that follow it ends A's stack, so those frames (whose request no line says) are not given A's request."""
    a, b = "6c1a9d2e-0b3f-4e5a-9c7d-1e2f3a4b5c61", "6c1a9d2e-0b3f-4e5a-9c7d-1e2f3a4b5c62"
    payload = per_line("node_stack_per_event", 0, (
        f"2025-12-07T09:40:01.010Z\t{a}\tERROR\tTypeError: Cannot read properties of undefined (reading 'id')",
        f"2025-12-07T09:40:01.011Z\t{b}\tINFO\torder 7002 charged",
        "    at handler (file:///var/task/index.mjs:12:30)"))
    *_, head, other, frame = documents(payload)
    assert head["faas"]["execution"] == a
    assert "stack_trace" not in head["error"]
    assert other["faas"]["execution"] == b
    assert "error" not in other
    assert "faas" not in frame or "execution" not in frame["faas"]
