"""Answering CloudFormation never raises: a stack must not hang because a request was odd."""

from __future__ import annotations

import io
import json

import pytest

from logship.core.custom_resource import answer


@pytest.mark.parametrize("request_", [
    {"RequestType": "Create"},                                   # no ResponseURL at all
    {"RequestType": "Create", "ResponseURL": 5},                  # not a URL
    {"RequestType": "Create", "ResponseURL": "http://127.0.0.1:9/closed"},  # nobody listening
])
def test_an_answer_that_cannot_be_delivered_is_logged_not_raised(request_):
    out = io.StringIO()
    assert answer(request_, "SUCCESS", "done", "id", attempts=1, timeout_s=1, stream=out) is False
    record = json.loads(out.getvalue())
    assert record["level"] == "error"
    assert "could not answer CloudFormation after 1 attempts" in record["message"]
