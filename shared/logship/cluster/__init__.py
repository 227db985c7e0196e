"""The cluster: how logship reaches OpenSearch or Elasticsearch, and what it installs there.

``client`` builds the opensearch-py client from the settings (every auth mode, compression, headers),
``secrets`` reads credentials from Secrets Manager at runtime (cached, re-read after a 401),
``bounded_connection`` ends every request by its deadline, and ``index_template`` checks the cluster and
installs the index template and retention policy (install-index-template, ``logship setup-index``).
"""
