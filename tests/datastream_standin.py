"""A stand-in for data streams on osmem-server, which has none.

osmem-server accepts an index template that declares ``data_stream: {}``, but refuses every write to a
name such a template covers ("data streams are not supported by osmem") and has no ``_data_stream`` API.
What a data stream is to a writer, though, is a name that takes ``create`` into its current backing
index: a write alias over one backing index does the same. So, as the cluster would on the first write,
this creates ``.ds-<name>-000001`` from logship's installed template (its settings and mappings) with the
stream's name as its write alias. What the stand-in lacks: rollover (one backing index forever), the
create-only rule, ``@timestamp`` enforcement and lifecycle; the Elasticsearch stand-in
(tests/integration/elastic_stand_in.py) holds the rules, not the storage.
"""

from __future__ import annotations

import fnmatch
from typing import Any


def emulate_data_streams(client: Any, *names: str) -> list[str]:
    """Stand in each data stream ``name`` by a write alias over a backing index; returns the backing indices."""
    templates = [t["index_template"] for t in client.indices.get_index_template()["index_templates"]]
    backing = []
    for name in names:
        template = next(t for t in templates if "data_stream" in t
                        and any(fnmatch.fnmatch(name, pattern) for pattern in t["index_patterns"]))
        index = f".ds-{name}-000001"
        body = template.get("template", {})
        client.indices.create(index=index, body={
            "settings": body.get("settings", {}), "mappings": body.get("mappings", {}),
            "aliases": {name: {"is_write_index": True}}})
        backing.append(index)
    return backing
