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
    assert len(f"json.payload.body={body}".encode()) <= MAX_TERM_BYTES  # flat_object's term: path=value
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
    assert "nested past 19 keys kept as its JSON text" in reason


def test_a_lone_surrogate_from_a_json_escape_is_kept_by_the_cut():
    value = {"s": "\ud800" + "x" * 40_000}
    fitted, reason = fit(value, json.dumps(value))
    assert fitted["s"].startswith("\ud800x")
    assert len(fitted["s"].encode(errors="surrogatepass")) <= MAX_TERM_BYTES
    assert reason


def test_a_deep_part_holding_what_only_the_stdlib_writes_becomes_text_all_the_same():
    from logship.ship.lines.common import loads_json

    deep = "".join(f'{{"k{i}":' for i in range(22)) + '{"nan": NaN, "big": 123456789012345678901234567890, ' \
        '"s": "\\ud800x"}' + "}" * 22
    value = loads_json(deep)
    fitted, reason = fit(value, deep)
    node = fitted
    for i in range(19):
        node = node[f"k{i}"]
    assert isinstance(node, str)
    assert "NaN" in node
    assert "123456789012345678901234567890" in node
    assert "nested past 19 keys" in reason


def test_a_key_twenty_keys_deep_is_walked_even_with_just_twenty_braces():
    line = "".join(f'{{"k{i}":' for i in range(19)) + '{"leaf": 1}' + "}" * 19  # 20 braces: leaf is 20 keys deep
    fitted, reason = fit(json.loads(line), line)
    assert "nested past 19 keys" in reason
    node = fitted
    for i in range(18):
        node = node[f"k{i}"]
    assert json.loads(node["k18"]) == {"leaf": 1}  # the object whose keys would be 20 deep, as its text


def test_a_correlation_value_longer_than_the_term_limit_is_cut_too():
    from logship.ship.lines.json_lines import JsonLines

    line = json.dumps({"message": "m", "x-correlation-id": "é" * 20_000}, ensure_ascii=False)
    _message, fields = JsonLines(()).parse(line, line)
    kept = fields["correlation"]["x-correlation-id"]
    assert set(kept) == {"é"}
    assert len(f"correlation.x-correlation-id={kept}".encode()) <= MAX_TERM_BYTES


def test_a_part_nested_deeper_than_json_can_be_written_stays_in_the_original_only():
    """orjson reads up to 1,024 levels, the stdlib writes back fewer than 1,000 (RecursionError): a line nested
    1,000 deep made the line parser raise, and the shipper kept it without any fields."""
    from logship.ship.lines import LineParser

    line = '{"message": "deep", "a":' + '{"a":' * 1000 + "1" + "}" * 1001
    message, fields = LineParser().parse(line)
    assert message == "deep"
    node = fields["json"]
    for _ in range(MAX_DEPTH - 1):
        node = node["a"]
    assert node == "(nested too deep to write out: see event.original)"
    assert "nested too deep to write out" in fields["logship"]["reason"]
    assert fields["event"]["original"] == line
