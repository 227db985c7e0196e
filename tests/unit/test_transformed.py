"""A transformer's events read from the line it kept (TransformedOriginalKey), and every other line as it is."""

from __future__ import annotations

import json

import pytest

from logship.ship.lines import LineParser
from logship.ship.transformed import OriginalInKey

LINE = "[ERROR]\t2025-11-22T10:00:00.171Z\t3f1c2a9e-6b1d-4f7a-9a7e-2d5b8c1e0f42\tPayment declined: card expired\n"


def test_a_transformed_event_is_read_from_the_line_it_kept_with_the_transformers_keys_under_json():
    event = json.dumps({"raw": LINE, "level": "[ERROR]", "team": "payments"})  # grok %{GREEDYDATA:raw}, then more

    message, fields = OriginalInKey(LineParser(), "raw").parse(event)

    assert message == "Payment declined: card expired"
    assert fields["log"] == {"level": "ERROR"}  # the line's, not the transformer's "[ERROR]"
    assert fields["faas"] == {"execution": "3f1c2a9e-6b1d-4f7a-9a7e-2d5b8c1e0f42"}
    assert fields["event"]["original"] == LINE.rstrip("\n")
    assert fields["json"] == {"level": "[ERROR]", "team": "payments"}


@pytest.mark.parametrize("line", [
    LINE,  # the line as logged: what the backfill reads with FilterLogEvents
    json.dumps({"raw": {"nested": "object"}, "team": "payments"}),  # not a line
    json.dumps({"message": 'a "raw" word in the text', "level": "INFO"}),  # the key's text, not the key
    '{"raw": "cut',  # not JSON
])
def test_any_other_line_is_read_as_without_the_key(line):
    assert OriginalInKey(LineParser(), "raw").parse(line) == LineParser().parse(line)
