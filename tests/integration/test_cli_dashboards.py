"""logship dashboards: the documented import request on the wire, and saved searches that find what they say."""

from __future__ import annotations

import email.parser
import email.policy
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from logship.core.config import ShipperConfig
from logship.ship.shipper import Shipper
from logship_cli.dashboards import SEARCHES, load, to_ndjson, with_prefix
from logship_cli.redrive import Budget
from tests.cli import logship
from tests.conftest import search_all, shipper_env
from tests.payloads import encode, subscription_names
from tests.payloads import load as load_payload


class Recorder:
    """A stand-in for Dashboards or Kibana: records each request, answers with ``answer`` (status, JSON)."""

    def __init__(self, status: int = 200, answer: dict[str, Any] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                recorder.requests.append({"path": self.path, "body": body,  # header names are case-insensitive
                                          "headers": {k.lower(): v for k, v in self.headers.items()}})
                payload = json.dumps(answer if answer is not None else {"success": True, "successCount": 12}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def recorder():
    server = Recorder()
    yield server
    server.close()


def form_parts(request: dict[str, Any]) -> list[Any]:
    """The multipart form as a server would read it."""
    head = f"Content-Type: {request['headers']['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request["body"])
    return list(message.iter_parts())


@pytest.mark.parametrize(("flags", "product", "xsrf"), [([], "opensearch", "osd-xsrf"),
                                                        (["--kibana"], "kibana", "kbn-xsrf")])
def test_import_is_the_documented_multipart_request(recorder, flags, product, xsrf):
    result = logship("dashboards", "import", "--url", f"{recorder.url}/_dashboards", "--prefix", "applogs", *flags)

    assert result.exit_code == 0, result.output
    [request] = recorder.requests
    assert request["path"] == "/_dashboards/api/saved_objects/_import?overwrite=true"
    assert request["headers"][xsrf] == "true"
    assert {"osd-xsrf", "kbn-xsrf"} - {xsrf} - set(request["headers"])
    [part] = form_parts(request)
    assert part.get_param("name", header="content-disposition") == "file"
    assert part.get_filename().endswith(".ndjson")
    assert part.get_payload(decode=True).decode() == to_ndjson(with_prefix(load(product), "applogs"))
    assert "12 of 12 saved objects imported for applogs-*" in result.stdout


def test_basic_auth_sends_the_credentials(recorder, monkeypatch):
    monkeypatch.setenv("LOGSHIP_DASHBOARDS_PASSWORD", "s3cret")

    result = logship("dashboards", "import", "--url", recorder.url, "--kibana", "--auth", "basic",
                     "--username", "elastic")

    assert result.exit_code == 0, result.output
    assert recorder.requests[0]["headers"]["authorization"] == "Basic ZWxhc3RpYzpzM2NyZXQ="  # elastic:s3cret


def test_sigv4_signs_for_amazon_opensearch_service(recorder, monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}.items():
        monkeypatch.setenv(key, value)

    result = logship("dashboards", "import", "--url", f"{recorder.url}/_dashboards", "--auth", "sigv4",
                     "--region", "eu-west-1")

    assert result.exit_code == 0, result.output
    headers = recorder.requests[0]["headers"]
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/es/aws4_request" in headers["authorization"]
    assert "x-amz-date" in headers


def test_a_partial_import_lists_each_error_and_exits_1():
    server = Recorder(answer={"success": False, "successCount": 11, "errors": [
        {"id": "logship-cwl-memory", "type": "visualization", "title": "Max memory used against memory size",
         "error": {"type": "missing_references"}}]})
    try:
        result = logship("dashboards", "import", "--url", server.url)
    finally:
        server.close()

    assert result.exit_code == 1
    assert "visualization logship-cwl-memory (Max memory used against memory size): {'type': 'missing_references'}" \
        in result.stdout
    assert "the import was not complete" in result.stderr


@pytest.mark.parametrize(("status", "expected"), [
    (401, "OpenSearch Dashboards refused the import (401): check --auth"),
    (404, "is --url the OpenSearch Dashboards address (not the cluster's)?"),
])
def test_refusals_say_what_to_check(status, expected):
    server = Recorder(status=status, answer={"statusCode": status, "error": "nope"})
    try:
        result = logship("dashboards", "import", "--url", server.url)
    finally:
        server.close()

    assert result.exit_code == 1
    assert expected in result.stderr


def test_an_unreachable_url_is_explained():
    result = logship("dashboards", "import", "--url", "http://127.0.0.1:9")

    assert result.exit_code == 1
    assert "could not reach http://127.0.0.1:9/api/saved_objects/_import?overwrite=true" in result.stderr


def test_export_writes_the_objects_for_the_prefix(tmp_path):
    target = tmp_path / "views.ndjson"

    result = logship("dashboards", "export", str(target), "--kibana", "--prefix", "applogs")

    assert result.exit_code == 0, result.output
    assert target.read_text() == to_ndjson(with_prefix(load("kibana"), "applogs"))
    assert logship("dashboards", "export", "-", "--prefix", "Bad Prefix").exit_code == 2


@pytest.mark.parametrize(("key", "at_least"), [("errors", 8), ("timeouts", 2), ("cold-starts", 4),
                                               ("failed-documents", 1)])
def test_each_saved_search_finds_what_its_title_says(opensearch, osmem_clone, key, at_least):
    shipper = Shipper(ShipperConfig.from_env(shipper_env(osmem_clone.url)), opensearch)
    for name in subscription_names():
        shipper.ship(encode(load_payload(name)), Budget(30), stream=io.StringIO())
    bad = load_payload("cwl_python_runtime") | {"logEvents": [{"id": "1" * 56, "timestamp": "not a time",
                                                               "message": "kept in the failed index"}]}
    shipper.ship(encode(bad), Budget(30), stream=io.StringIO())
    title, query, _columns = SEARCHES[key]

    found = search_all(opensearch, query_string={"query": query})

    assert len(found) >= at_least, title
