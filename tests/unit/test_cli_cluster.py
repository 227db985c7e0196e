"""The cluster options: an Elastic Cloud id or an endpoint, whichever is given, is the way to the cluster."""

from __future__ import annotations

import base64

import pytest

from logship.core.config import ShipperConfig
from logship_cli.context import Aws, Cluster

CLOUD_ID = "logs-prod:" + base64.b64encode(b"eu-west-1.aws.found.io:443$abc123$def456").decode()
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:es-key-AbCdEf"


@pytest.mark.parametrize(("cluster", "endpoint"), [
    (Cluster(cloud_id=CLOUD_ID, auth="apikey", secret_arn=SECRET), "https://abc123.eu-west-1.aws.found.io:443"),
    (Cluster(endpoint="http://127.0.0.1:9200", auth="none"), "http://127.0.0.1:9200"),
])
def test_the_cluster_given_is_the_one_used(cluster, endpoint):
    settings = cluster.settings(Aws(region="eu-west-1"))

    assert ShipperConfig.from_env(settings).endpoint == endpoint
    assert not ({"OPENSEARCH_ENDPOINT", "ELASTIC_CLOUD_ID"} <= set(settings))  # one way, never both


def test_both_ways_at_once_is_refused_naming_both():
    settings = Cluster(endpoint="https://es.example.com", cloud_id=CLOUD_ID, auth="apikey",
                       secret_arn=SECRET).settings(Aws(region="eu-west-1"))

    with pytest.raises(ValueError, match="ELASTIC_CLOUD_ID"):
        ShipperConfig.from_env(settings)
