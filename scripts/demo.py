"""`make demo`: the whole logship flow on a laptop, no AWS account: moto stands in for AWS, osmem-server
for OpenSearch, and the real handlers run in-process, in the order a deployment runs them:

 1. install-index-template   installs the index template (as at deploy)
 2. reconcile-subscriptions  sweeps the log groups that already exist (as at deploy), and why each one skipped is
 3. subscribe-log-group      subscribes a group created later (a CloudTrail CreateLogGroup event)
 4. ship-logs                ships the subscription batches in tests/events (as CloudWatch Logs delivers them)
 5. what was indexed, per function, and the README's example queries through `logship search`

`make demo KEEP=1` (--keep) keeps osmem-server running afterwards, and prints the commands to try on it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import zipfile
from typing import Any

STACK = "logship"
REGION = "eu-west-1"
TIMEOUTS = {"ship_logs": 120, "reconcile_subscriptions": 900}  # seconds, as in template.yaml; others 60
def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def invoke(function: str, event: Any) -> tuple[Any, list[dict[str, Any]]]:
    """Run a handler on a cold start, as Lambda would; return what it returned and the JSON lines it logged."""
    from tests.conftest import LambdaContext, load_handler

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        context = LambdaContext(TIMEOUTS.get(function, 60) * 1000, f"{STACK}-{function.replace('_', '-')}")
        result = load_handler(function).handler(event, context)
    return result, [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]


def deploy_shipper(lambda_client: Any, iam: Any) -> str:
    """ship-logs as a moto function: CloudWatch Logs accepts only a destination that exists."""
    role = iam.create_role(RoleName="logship", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return lambda_client.create_function(FunctionName=f"{STACK}-ship-logs", Runtime="python3.13", Role=role,
                                         Handler="app.handler", Code={"ZipFile": code.getvalue()})["FunctionArn"]


def environment(endpoint: str, shipper_arn: str) -> dict[str, str]:
    """What template.yaml gives the functions, with local stand-ins for the endpoint."""
    own = [f"/aws/lambda/{STACK}-{name}" for name in
           ("ship-logs", "subscribe-log-group", "reconcile-subscriptions", "install-index-template")]
    return {"OPENSEARCH_ENDPOINT": endpoint, "OPENSEARCH_AUTH": "none", "INDEX_PREFIX": "cwl",
            "INDEX_MODE": os.environ.get("INDEX_MODE", "daily"),  # `make demo INDEX_MODE=datastream`
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "demo",
            "AWS_SECRET_ACCESS_KEY": "demo", "DESTINATION_ARN": shipper_arn, "FILTER_NAME": "logship",
            "FILTER_PATTERN": "", "INCLUDE_PREFIXES": "/aws/lambda/", "EXCLUDE": "/aws/lambda/legacy-*",
            "SHIPPER_LOG_GROUP": own[0], "STACK_LOG_GROUPS": ",".join(own), "METRICS_NAMESPACE": "logship"}


def show_filters(logs: Any) -> None:
    for page in logs.get_paginator("describe_log_groups").paginate():
        for group in page["logGroups"]:
            name = group["logGroupName"]
            filters = logs.describe_subscription_filters(logGroupName=name)["subscriptionFilters"]
            target = ", ".join(f"{f['filterName']} -> {f['destinationArn'].rsplit(':', 1)[-1]}" for f in filters)
            print(f"    {name:<45} {target or '(not subscribed)'}")


def show_skipped(logs: Any) -> None:
    """Why each group the sweep left alone was skipped, in the selection's own words."""
    from logship.core.selection import Verdict
    from logship.subscribe.subscriber import Subscriber

    subscriber = Subscriber.from_env(os.environ)  # the settings reconcile-subscriptions runs with
    for page in logs.get_paginator("describe_log_groups").paginate():
        for group in page["logGroups"]:
            name = group["logGroupName"]
            verdict = subscriber.verdict(name)
            if verdict is Verdict.LOGSHIP:
                print(f"    skipped {name}: a logship stack's own group (tag logship:stack)")
            elif verdict is not Verdict.INCLUDED:
                print(f"    skipped {name}: {subscriber.selection.why(name)}")


def documents_per_function(client: Any, where: str) -> None:
    step("what was indexed, per function (faas.name)")
    answer = client.search(index=where, body={"size": 0, "aggs": {
        "functions": {"terms": {"field": "faas.name", "size": 50}},
        "failed": {"filter": {"exists": {"field": "logship.failed_index"}}}}})
    for bucket in answer["aggregations"]["functions"]["buckets"]:
        print(f"    {bucket['key']:<22} {bucket['doc_count']:>5} documents")
    print(f"    {'(in the failed index)':<22} {answer['aggregations']['failed']['doc_count']:>5} documents")
    for row in sorted(client.cat.indices(index=where, format="json"), key=lambda r: r["index"]):
        print(f"    index {row['index']:<16} {row['docs.count']:>5} documents")


def search_with_logship(server_url: str, hits: int) -> None:
    """The README's example queries, run by the logship command itself."""
    from logship_cli.app import main
    from tests.doc_pages import example_queries

    step("5. the README's example queries, through `logship search` (paste them into Kibana / Dashboards too)")
    for title, text in example_queries().items():
        print(f"\n    {title}:\n    $ logship search '{text}' --limit {hits}", flush=True)
        with contextlib.redirect_stderr(sys.stdout):  # its footer (how many hits) belongs in this report
            main.main(["search", text, "--limit", str(hits), "--endpoint", server_url, "--auth", "none"],
                      prog_name="logship", standalone_mode=False)


def try_it(server_url: str, where: str) -> None:
    print(f"""
==> osmem-server keeps running at {server_url}. Try (the command is .venv/bin/logship after make):
    export LOGSHIP_ENDPOINT={server_url} LOGSHIP_AUTH=none
    logship search 'log.level:ERROR'
    logship search 'faas.coldstart:true' --json
    logship search --function checkout --since 2025-11-22
    logship dashboards export - | head -c 300
    curl '{server_url}/{where}/_search?q=error&pretty'
    curl '{server_url}/_cat/indices/{where}?v'""")


def run(server_url: str, query_hits: int) -> str:
    """The whole flow; returns where the documents are (the daily indices, or the data streams)."""
    import boto3
    from moto import mock_aws
    from opensearchpy import OpenSearch

    from logship.core.config import ShipperConfig
    from tests.payloads import EVENTS_DIR, encode, load, subscription_names

    with mock_aws(config={"lambda": {"use_docker": False}}):
        os.environ.update(AWS_DEFAULT_REGION=REGION, AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo")
        boto3.setup_default_session(region_name=REGION)
        logs = boto3.client("logs")
        shipper_arn = deploy_shipper(boto3.client("lambda"), boto3.client("iam"))
        os.environ.update(environment(server_url, shipper_arn))

        step("1. install-index-template (a custom resource at deploy)")
        result, _ = invoke("install_index_template", {})
        installed, _, retention = result["reason"].partition("retention:")
        for part in filter(None, installed.strip("; ").split("; ")):
            print(f"    {result['status']}: {part}")
        if retention:  # osmem-server answers ISM's API with a 400: say plainly what that means
            print("    retention: not installed here: osmem-server, the local stand-in, has no lifecycle API "
                  "(ISM); on a real domain the policy deletes cwl's indices 30 days after their creation")
        naming = ShipperConfig.from_env().naming
        if naming.is_stream:  # osmem-server has no data streams: each stands in as a write alias over an index
            from tests.datastream_standin import emulate_data_streams

            emulate_data_streams(OpenSearch(hosts=[server_url]), *naming.patterns)
            print(f"    stand-in data streams (osmem-server has none): {', '.join(naming.patterns)}")

        step("2. reconcile-subscriptions sweeps the groups that already exist")
        for name in ("/aws/lambda/checkout", "/aws/lambda/image-resize", "/aws/lambda/legacy-report",
                     f"/aws/lambda/{STACK}-ship-logs", "/ecs/web"):
            logs.create_log_group(logGroupName=name)
        summary = invoke("reconcile_subscriptions", {})[1][-1]
        print("    " + ", ".join(f"{key}={summary[key]}" for key in
                                  ("seen", "subscribed", "already_subscribed", "excluded", "limit_blocked", "failed")))
        show_skipped(logs)

        step("3. a new function's group appears: CloudTrail CreateLogGroup -> subscribe-log-group")
        event = json.loads((EVENTS_DIR / "cloudtrail_create_lambda_group.json").read_text())
        logs.create_log_group(logGroupName=event["detail"]["requestParameters"]["logGroupName"])
        _, outcome = invoke("subscribe_log_group", event)
        print(f"    {event['detail']['requestParameters']['logGroupName']}: "
              f"{next((r['outcome'] for r in outcome if r.get('logship') == 'subscription'), 'see log')}")
        print("    subscription filters now:")
        show_filters(logs)

        step("4. ship-logs receives the subscription batches (tests/events/cwl_*.json)")
        for name in subscription_names():
            summary, _ = invoke("ship_logs", encode(load(name)))
            print(f"    {name:<26} in={summary['events_in']:<3} indexed={summary['indexed']:<3} "
                  f"duplicates={summary['duplicates']} degraded={summary['degraded']} failed={summary['failed']} "
                  f"({summary['ms']} ms)")

    where = ",".join(naming.patterns)  # cwl-2* and cwl-failed-*, or the data streams
    client = OpenSearch(hosts=[server_url])
    client.indices.refresh(index=where)
    documents_per_function(client, where)
    search_with_logship(server_url, query_hits)
    return where


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hits", type=int, default=3, help="hits to print per example query (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep osmem-server running until Enter is pressed")
    args = parser.parse_args()
    from osmem_server import OsmemServer

    step("starting osmem-server (in-memory OpenSearch) and moto (in-memory AWS)")
    with OsmemServer.start(japanese=False) as server:
        where = run(server.url, args.hits)
        if not args.keep:
            print("\nRun `make demo KEEP=1` to keep this local cluster running and try `logship search` on it.")
            return 0
        try_it(server.url, where)
        with contextlib.suppress(KeyboardInterrupt, EOFError):
            input("\nPress Enter (or Ctrl-C) to stop osmem-server. ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
