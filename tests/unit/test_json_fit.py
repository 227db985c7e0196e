"""A line's JSON kept in the form every cluster indexes: leaves within Lucene's term limit, nesting within
flattened's depth limit; decided before sending, and only for lines that could break a rule."""

from __future__ import annotations

import json

from logship.ship.lines.json_fit import MAX_DEPTH, MAX_TERM_BYTES, fit


def test_a_usual_line_is_left_as_it_is_without_a_walk():
    value = {"level": "INFO", "message": "ok", "order": {"id": 7, "items": [{"sku": "a"}]}}
    assert fit(value, json.dumps(value)) == (value, "")  # the same object: nothing copied


def test_a_long_leaf_is_cut_at_a_character_within_the_limit_with_its_path():
    value = {"payload": {"body": "€" * 12_000}}  # 36,000 bytes
    fitted, reason = fit(value, json.dumps(value, ensure_ascii=False))
    body = fitted["payload"]["body"]
    assert set(body) == {"€"}  # cut between characters, never inside one
    assert len(f"json._valueAndPath=payload.body={body}".encode()) <= MAX_TERM_BYTES
    assert "payload.body (36,000 bytes) cut to" in reason
    assert value["payload"]["body"] == "€" * 12_000  # the parsed line itself is not changed


def test_a_long_line_of_short_leaves_is_unchanged():
    value = {f"k{i}": "x" * 100 for i in range(200)}
    text = json.dumps(value)
    assert len(text) > MAX_TERM_BYTES // 4
    assert fit(value, text) == (value, "")


def test_nesting_past_the_limit_is_kept_as_its_json_text():
    value: dict = {"a": {}}
    node = value["a"]
    for level in range(30):
        node[f"n{level}"] = {"at": level}
        node = node[f"n{level}"]
    fitted, reason = fit(value, json.dumps(value))
    node, depth = fitted, 1
    while isinstance(node, dict):
        child = next((v for k, v in node.items() if k != "at"), None)
        if child is None:
            break
        node, depth = child, depth + 1
    assert isinstance(node, str)
    assert depth == MAX_DEPTH
    assert json.loads(node)["at"] > 0
    assert "deeper than 20 levels kept as its JSON text" in reason


def test_a_lone_surrogate_from_a_json_escape_does_not_stop_the_cut():
    value = {"s": "\ud800" + "x" * 40_000}
    fitted, reason = fit(value, json.dumps(value))
    assert len(fitted["s"]) < 40_000
    assert reason
