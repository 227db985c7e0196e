"""Decoding subscription events: good ones read once, bad ones rejected with a reason a human can act on."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from logship.ship.payload import PayloadError, parse_batch
from tests.payloads import encode, load


def test_decodes_a_data_message():
    batch = parse_batch(encode(load("cwl_python_runtime")))

    assert batch.log_group == "/aws/lambda/orders-api"
    assert batch.owner == "123456789012"
    assert len(batch.events) == 7
    assert batch.events[0].timestamp == 1763805600000
    assert not batch.is_control


def test_control_message_is_recognised():
    assert parse_batch(encode(load("cwl_control_message"))).is_control


def _event(data: str) -> dict:
    return {"awslogs": {"data": data}}


@pytest.mark.parametrize(("event", "says"), [
    ({"Records": []}, "expected key 'awslogs', got ['Records']"),
    (_event(""), "non-empty base64 string"),
    (_event("not base64!!"), "is not base64"),
    (_event(base64.b64encode(b'{"already": "decoded"}').decode()), "is not gzip (first bytes 7b22616c"),
    (_event(base64.b64encode(gzip.compress(b"\xff\xfe")).decode()), "is gzip but not JSON"),
    (_event(base64.b64encode(gzip.compress(b"[1]")).decode()), "is an array, expected an object"),
    (encode({"messageType": "DATA_MESSAGE", "owner": "1"}), "lacks logGroup, logStream, logEvents"),
    (encode({"messageType": "OTHER"}), "neither DATA_MESSAGE nor CONTROL_MESSAGE"),
    (encode({**load("cwl_python_runtime"), "logEvents": {"id": "1"}}), "logEvents must be a list, got an object"),
    (encode({**load("cwl_python_runtime"), "logGroup": 7}), "logGroup must be a string, got a number: 7"),
])
def test_bad_input_raises_an_error_that_says_what_was_wrong(event, says):
    with pytest.raises(PayloadError) as error:
        parse_batch(event)
    assert says in str(error.value)


def test_non_ascii_lines_survive_decoding():
    payload = load("cwl_python_runtime")
    payload["logEvents"][0]["message"] = "Grüße aus Köln ✓\n"
    assert parse_batch(encode(payload)).events[0].message == "Grüße aus Köln ✓\n"


def test_encoding_helper_matches_aws_shape():
    data = encode(load("cwl_node_runtime"))["awslogs"]["data"]
    assert json.loads(gzip.decompress(base64.b64decode(data)))["logGroup"] == "/aws/lambda/checkout"


def test_an_unusable_event_is_set_aside_with_its_reason_and_the_rest_of_the_batch_kept():
    payload = load("cwl_python_runtime")
    payload["logEvents"][2] = {"id": "1", "message": "x"}

    batch = parse_batch(encode(payload))

    assert len(batch.events) == 6
    [rejected] = batch.rejected
    assert (rejected.position, rejected.id, rejected.text) == (2, "1", "x")
    assert rejected.reason == "logEvents[2]: timestamp is missing"
    assert rejected.timestamp == batch.events[0].timestamp  # the batch's own time stands in
    assert batch.size == 7
