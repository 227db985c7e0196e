"""logship search: query_string over <prefix>-*, newest first, one line per hit; --follow tails new lines."""

from __future__ import annotations

import io
import json

import pytest

from logship.core.config import ShipperConfig
from logship.ship.shipper import Shipper
from logship_cli.redrive import Budget
from tests.cli import logship
from tests.conftest import shipper_env
from tests.doc_pages import example_queries
from tests.payloads import encode, load, subscription_names


@pytest.fixture
def shipped(opensearch, osmem_clone):
    """Every fixture payload shipped by the real shipper; returns a function to ship more."""
    shipper = Shipper(ShipperConfig.from_env(shipper_env(osmem_clone.url)), opensearch)

    def ship(decoded: dict) -> None:
        shipper.ship(encode(decoded), Budget(30), stream=io.StringIO())
        opensearch.indices.refresh(index="cwl-*")

    for name in subscription_names():
        ship(load(name))
    return ship


def search(url: str, *args: str, **invoke):
    return logship("search", *args, "--endpoint", url, "--auth", "none", **invoke)


def lines(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line]


def test_hits_newest_first_one_line_each(shipped, osmem_clone):
    result = search(osmem_clone.url, "log.level:ERROR", "--limit", "500")

    assert result.exit_code == 0, result.output
    hits = lines(result)
    assert hits
    assert hits == sorted(hits, reverse=True)  # ISO timestamps lead each line
    assert all(" ERROR " in hit for hit in hits)
    assert all("\n" not in hit for hit in hits)
    assert f"{len(hits)} of {len(hits)} hit(s) in cwl-2*,cwl-failed-*, newest first" in result.stderr


@pytest.mark.parametrize("title", list(example_queries()))
def test_the_readmes_example_queries_find_what_they_promise(shipped, osmem_clone, title):
    result = search(osmem_clone.url, example_queries()[title])

    assert result.exit_code == 0, result.output
    assert lines(result)


def test_function_level_since_and_limit_narrow_the_search(shipped, osmem_clone):
    everything = lines(search(osmem_clone.url, "*", "--limit", "1000"))
    checkout = lines(search(osmem_clone.url, "--function", "/aws/lambda/checkout", "--limit", "1000"))
    warnings = lines(search(osmem_clone.url, "--level", "warn", "--limit", "1000"))
    late = lines(search(osmem_clone.url, "--since", "2025-11-23", "--limit", "1000"))
    two = search(osmem_clone.url, "--limit", "2")

    assert len(checkout) == 13
    assert all("  checkout " in hit for hit in checkout)
    assert {hit.split()[2] for hit in warnings} <= {"WARN", "ERROR", "FATAL"}
    assert any(" WARN " in hit for hit in warnings)
    assert any(" ERROR " in hit for hit in warnings)
    since = 1_763_856_000_000  # 2025-11-23T00:00:00Z
    assert len(late) == sum(event["timestamp"] >= since for name in subscription_names()
                            for event in load(name)["logEvents"]) > 3
    assert all(hit[:10] >= "2025-11-23" for hit in late)
    assert len(lines(two)) == 2
    assert f"2 of {len(everything)} hit(s)" in two.stderr
    assert "--limit 2: raise it to see more" in two.stderr


def test_json_output_is_one_document_per_line(shipped, osmem_clone):
    result = search(osmem_clone.url, "faas.coldstart:true", "--json")

    documents = [json.loads(line) for line in lines(result)]
    assert documents
    assert all(doc["faas"]["coldstart"] is True for doc in documents)


def test_a_query_the_cluster_cannot_parse_is_a_usage_error(shipped, osmem_clone):
    result = search(osmem_clone.url, "AND AND ((")

    assert result.exit_code == 2
    assert "the cluster could not run this query (Cannot parse 'AND AND ((': " in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_cluster_says_what_to_check():
    result = search("http://127.0.0.1:9", "error")

    assert result.exit_code == 1
    assert "could not reach http://127.0.0.1:9" in result.stderr


def test_follow_prints_each_new_line_once_as_it_arrives(shipped, osmem_clone):
    checkout = load("cwl_node_runtime")
    node_error = "{}\t{}\tERROR\t{}\n"
    arrivals = iter([
        [],
        [{"id": "9" * 56, "timestamp": 1763856300000,
          "message": node_error.format("2025-11-23T00:05:00.000Z", "r-1", "new one")}],
        # a line that arrives later than the newest, though logged before it: still shown, once
        [{"id": "8" * 56, "timestamp": 1763856180000,
          "message": node_error.format("2025-11-23T00:03:00.000Z", "r-2", "late one")}],
    ])

    def sleep(_seconds: float) -> None:  # between two polls, a new batch lands (or none)
        events = next(arrivals)
        if events:
            shipped(checkout | {"logEvents": events})

    result = search(osmem_clone.url, "log.level:ERROR", "--function", "checkout", "--follow", "--limit", "2",
                    obj={"sleep": sleep, "polls": 3})

    assert result.exit_code == 0, result.output
    followed = lines(result)
    assert len(followed) == 4  # the two latest in the order they happened, then each new line once, as it came
    assert followed[:2] == sorted(followed[:2])
    assert followed[2].endswith("new one")
    assert followed[3].endswith("late one")
