"""Documents: timestamps, daily index names and function identity derived from the payload."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest

from logship.core.timefmt import index_day, iso_millis
from logship.ship.documents import DocumentBuilder, faas_fields, source_fields
from logship.ship.payload import parse_batch
from tests.payloads import encode, load


def test_iso_millis_and_index_day_agree_with_datetime():
    rng = random.Random(42)
    for epoch_ms in [0, 1763855999999, 1763856000000, *(rng.randrange(0, 4_102_444_800_000) for _ in range(500))]:
        moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
        assert iso_millis(epoch_ms) == moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"
        assert index_day(epoch_ms) == moment.strftime("%Y.%m.%d")


@pytest.mark.parametrize(("group", "stream", "expected"), [
    ("/aws/lambda/orders", "2025/11/22/[$LATEST]4a0d2e5f7c9b41d3a8e6f1b2c3d4e5f6", {"name": "orders", "version": "$LATEST"}),
    ("/aws/lambda/orders", "2025/11/22/[12]4a0d2e5f7c9b41d3a8e6f1b2c3d4e5f6", {"name": "orders", "version": "12"}),
    ("/shared/app", "2025/11/22/billing[$LATEST]4a0d2e5f7c9b41d3a8e6f1b2c3d4e5f6", {"name": "billing", "version": "$LATEST"}),
    ("/aws/lambda/shared", "2025/11/22/billing[7]4a0d2e5f7c9b41d3a8e6f1b2c3d4e5f6", {"name": "billing", "version": "7"}),
    ("/ecs/web", "web/web/0123456789abcdef", {}),
    ("/aws/lambda/edge", "not-a-lambda-stream", {"name": "edge"}),
])
def test_faas_fields_from_group_and_stream(group, stream, expected):
    assert faas_fields(group, stream) == expected


def test_a_capacity_providers_group_is_no_functions():
    """Lambda Managed Instances: /aws/lambda/capacity-provider/<name>, stream <name>/managed-instances (Lambda
    developer guide, "Configure CloudWatch Logs for Lambda Managed Instances")."""
    group, stream = "/aws/lambda/capacity-provider/batch-fleet", "batch-fleet/managed-instances"
    assert source_fields(group, stream) == {"lambda": {"capacity_provider": "batch-fleet"}}
    assert source_fields("/aws/lambda/orders", "2025/11/22/[7]4a0d2e5f7c9b41d3a8e6f1b2c3d4e5f6") == {
        "faas": {"name": "orders", "version": "7"}}


def test_each_event_gets_its_own_id_index_and_trimmed_message():
    docs = DocumentBuilder(index_prefix="logs", region="us-east-2").build(parse_batch(encode(load("cwl_node_runtime"))))

    assert [d.index for d in docs] == ["logs-2025.11.22"] * 3 + ["logs-2025.11.23"] * 3
    assert docs[3].source["message"].endswith("Task timed out after 3.00 seconds")
    assert docs[3].line.endswith("seconds\n\n")
    assert len({d.id for d in docs}) == 6


def test_function_name_pattern_fills_service_environment_and_labels():
    import re

    from logship.ship.documents import naming_fields

    pattern = re.compile(r"(?P<service>[^-]+)-(?P<environment>[^-]+)-(?P<component>.+)")
    assert naming_fields("orders-prod-api", pattern) == {
        "service": {"name": "orders", "environment": "prod"}, "labels": {"component": "api"}}
    assert naming_fields("legacy", pattern) == {}
    assert naming_fields("orders-prod-api", None) == {}


def test_a_lines_own_service_wins_over_the_naming_convention():
    import re

    payload = load("cwl_json_format")
    payload["logGroup"] = "/aws/lambda/billing-prod-worker"
    payload["logStream"] = "2025/11/22/[$LATEST]1f2e3d4c5b6a47988a9b0c1d2e3f4a5b"  # a default group's stream
    builder = DocumentBuilder(index_prefix="cwl", region="eu-west-1",
                              function_name_pattern=re.compile(r"(?P<service>[^-]+)-(?P<environment>[^-]+)-.+"))
    docs = builder.build(parse_batch(encode(payload)))
    assert docs[0].source["service"] == {"name": "billing", "environment": "prod"}
    powertools = docs[3].source  # logs "service": "billing" itself: its name wins, the environment stays
    assert powertools["service"] == {"name": "billing", "environment": "prod"}


@pytest.mark.parametrize("event_id", ["37638056005260181590830166131860913909960308246281948219", 'odd"id\\with\nbytes'])
def test_bulk_action_lines_are_valid_json_for_any_id(event_id):
    import json

    from logship.ship.documents import Document
    from logship.ship.sink import encode as encode_action

    action, source, end = encode_action(Document("cwl-2025.11.22", event_id, {"message": "é"}, "é", 0)).split(b"\n")
    assert json.loads(action) == {"create": {"_index": "cwl-2025.11.22", "_id": event_id}}
    assert json.loads(source) == {"message": "é"}
    assert end == b""


def test_an_integer_past_64_bits_in_a_json_line_stays_exact():
    """orjson would read it as a float (99999999999999999999 as 1e+20): the line is read by the stdlib, and its
    document written by the stdlib's encoder, which keeps every digit."""
    payload = load("cwl_json_format")
    payload["logEvents"] = payload["logEvents"][:1]
    payload["logEvents"][0]["message"] = '{"level": "INFO", "message": "paid", "order": 99999999999999999999}'
    [document] = DocumentBuilder(region="eu-west-1").build(parse_batch(encode(payload)))

    assert document.source["json"]["order"] == 99999999999999999999
    assert isinstance(document.source["json"]["order"], int)


@pytest.mark.parametrize("line", [
    '{"level": "INFO", "latency": NaN, "message": "x"}',
    '{"level": "INFO", "latency": 1e999, "message": "x"}',
    "REPORT RequestId: r1\tDuration: nan ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB\t",
])
def test_a_number_json_cannot_hold_sends_the_document_to_the_stdlibs_encoder(line):
    """orjson would write NaN as null: the document is handed over with its source instead (the sink's encoder
    refuses it, and the line is kept without its fields), never written with the number gone quietly."""
    from logship.ship.documents import Page

    payload = load("cwl_json_format")
    payload["logEvents"] = payload["logEvents"][:3]
    payload["logEvents"][1]["message"] = line
    items = list(DocumentBuilder(region="eu-west-1").pages(parse_batch(encode(payload))))

    assert [len(item) if isinstance(item, Page) else "odd" for item in items] == [1, "odd", 1]
    odd = items[1]
    assert odd.body is None
    assert odd.id == payload["logEvents"][1]["id"]
    with pytest.raises(ValueError, match="Out of range float values"):
        json.dumps(odd.source, allow_nan=False)


def test_a_parser_bug_costs_only_its_line():
    """Lines are parsed a few at a time; a parser that raises on one line (a bug: parsers never raise by design)
    leaves that line as plain text saying why, and every other line of its group parsed as usual."""
    from logship.ship.lines import LineParser

    class _BuggyParser(LineParser):
        def parse(self, line):
            if "boom" in line:
                raise KeyError("boom")
            return super().parse(line)

    payload = load("cwl_python_runtime")
    payload["logEvents"][3]["message"] = "[INFO]\t2025-11-22T10:00:00.151Z\tabc-1\tboom\n"
    docs = DocumentBuilder(region="eu-west-1", parser=_BuggyParser()).build(parse_batch(encode(payload)))
    usual = DocumentBuilder(region="eu-west-1").build(parse_batch(encode(payload)))

    assert len(docs) == len(payload["logEvents"])
    assert docs[3].source["logship"] == {"degraded": True, "reason": "parser: KeyError('boom')"}
    assert docs[3].source["message"] == "[INFO]\t2025-11-22T10:00:00.151Z\tabc-1\tboom"
    assert [doc.source for doc in docs[:3] + docs[4:]] == [doc.source for doc in usual[:3] + usual[4:]]


def _two_sources() -> dict:
    """A centralized delivery whose events come from two accounts and regions, and one without extractedFields
    (the shape of the OTel collector's two_records_different_extracted_fields.json testdata)."""
    payload = load("cwl_centralized_copy")
    payload["logEvents"][2]["extractedFields"] = {"@aws.account": "111122223333", "@aws.region": "ap-southeast-2"}
    payload["logEvents"][3]["extractedFields"] = {"@aws.account": "111122223333"}  # @aws.account alone
    del payload["logEvents"][4]["extractedFields"]
    return payload


@pytest.mark.parametrize("read", ["whole", "in slices", "event by event"])
def test_each_event_of_a_centralized_delivery_names_the_account_and_region_it_was_logged_in(read, monkeypatch):
    from logship.ship import payload as decoding

    delivery = _two_sources()
    if read == "in slices":
        monkeypatch.setattr(decoding, "READ_IN_SLICES_ABOVE", 0)
        monkeypatch.setattr(decoding, "_SLICE_BYTES", 300)
    if read == "event by event":  # an id sent as a number is not the usual kind: read exactly, by the stdlib
        delivery["logEvents"][0]["id"] = 17638092000001234567890123456789012345678901234567890001

    documents = DocumentBuilder(region="eu-west-1").build(decoding.read_delivery(encode(delivery)))

    assert [(d.source["cloud"]["account"]["id"], d.source["cloud"]["region"]) for d in documents] == [
        ("444455556666", "us-east-2"), ("444455556666", "us-east-2"), ("111122223333", "ap-southeast-2"),
        ("111122223333", "eu-west-1"),  # no @aws.region: the shipper's own, as for any delivery without one
        ("999988887777", "eu-west-1")]  # no extractedFields: the envelope's owner
    assert {d.source["cloud"]["provider"] for d in documents} == {"aws"}
    assert {d.source["faas"]["name"] for d in documents} == {"checkout-api"}
