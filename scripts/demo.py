"""`make demo`: run ship-logs on a laptop, no AWS account: osmem-server stands in for OpenSearch.

Replays every sample payload in tests/events through the real handler, then shows what a user would
find in Kibana: document counts per index and one search.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import sys
import time
from pathlib import Path

from opensearchpy import OpenSearch
from osmem_server import OsmemServer

from tests.payloads import encode, load, subscription_names

ROOT = Path(__file__).resolve().parent.parent


class Context:
    """Lambda's context object, as far as the shipper uses it."""

    def __init__(self, seconds: float = 60) -> None:
        self._deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def load_shipper():
    spec = importlib.util.spec_from_file_location("ship_logs_app", ROOT / "functions/ship_logs/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--query", default="error", help="text to search for at the end (default: error)")
    args = parser.parse_args()

    print("==> starting osmem-server (in-memory OpenSearch)", flush=True)
    with OsmemServer.start(japanese=False) as server:
        os.environ.update(OPENSEARCH_ENDPOINT=server.url, OPENSEARCH_AUTH="none", INDEX_PREFIX="cwl",
                          AWS_REGION="eu-west-1", AWS_LAMBDA_FUNCTION_NAME="logship-demo")
        app = load_shipper()
        for name in subscription_names():
            print(f"==> ship-logs <- tests/events/{name}.json", flush=True)
            with contextlib.redirect_stdout(io.StringIO()):  # the shipper's own JSON log line
                summary = app.handler(encode(load(name)), Context())
            print(f"    in={summary['events_in']} indexed={summary['indexed']} duplicates={summary['duplicates']}"
                  f" failed={summary['failed']} ({summary['ms']} ms)", flush=True)

        client = OpenSearch(hosts=[server.url])
        client.indices.refresh(index="cwl-*")
        print("\n==> documents per index")
        for row in client.cat.indices(index="cwl-*", format="json"):
            print(f"    {row['index']:<22} {row['docs.count']:>5}")
        print(f'\n==> search: message:"{args.query}"')
        hits = client.search(index="cwl-*", body={"query": {"match": {"message": args.query}}, "size": 5})
        for hit in hits["hits"]["hits"]:
            doc = hit["_source"]
            print(f"    {doc['@timestamp']}  {doc.get('faas', {}).get('name', '-'):<12} {doc['message'][:70]!r}")
        print(f"\n{hits['hits']['total']['value']} hit(s). Raw: curl '{server.url}/cwl-*/_search?q={args.query}'")
        print(json.dumps(hits["hits"]["hits"][0]["_source"], indent=2) if hits["hits"]["hits"] else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
