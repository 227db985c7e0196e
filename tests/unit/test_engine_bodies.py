"""Every body logship sends to a cluster, checked against the engines' own API definitions.

The definitions are the TypeScript types of the engines' official clients, generated from their API
specifications (``@elastic/elasticsearch`` 9 and 8 from elasticsearch-specification,
``@opensearch-project/opensearch`` 3 from opensearch-api-specification), locked in
tests/engine_types/package-lock.json. Each body becomes a typed constant and ``tsc --noEmit`` checks it: an
unknown key, a mapping type the engine lacks (``flat_object`` on Elasticsearch, ``flattened`` on OpenSearch),
a wrong value type or an unknown ISM action or ILM rollover condition fails. Index settings are checked in
their nested form against the settings type without its catch-all index signature (``Strict<>``), so an
unknown setting fails too.

What the types cannot say (they are looser there than the engines): ISM transition conditions and the
arguments of ISM's delete action are open records; a date's ``format`` is any string; ``ignore_above`` is
accepted on any field type. The version rules those leave out (``flattened`` from 7.3, ``flat_object`` from
2.14, ILM's ``max_primary_shard_size`` from 7.13, ``index.mode`` values) are the stand-ins' and
test_index_template.py's.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from logship.cluster.engine import Flavor
from logship.cluster.index_template import template_body
from logship.cluster.retention import ilm_attach_settings, ilm_policy, ism_attach_body, ism_policy
from logship.core.indices import IndexNaming
from logship.ship.documents import action_line, action_start

TYPES = Path(__file__).resolve().parent.parent / "engine_types"
TSC = TYPES / "node_modules" / "typescript" / "bin" / "tsc"

# The clusters logship supports, by what their template, settings and policies differ in.
ELASTICSEARCH = [Flavor("elasticsearch", (7, 10, 2)), Flavor("elasticsearch", (7, 10, 2), "oss"),
                 Flavor("elasticsearch", (7, 17)), Flavor("elasticsearch", (8, 15)), Flavor("elasticsearch", (8, 19)),
                 Flavor("elasticsearch", (9, 1))]
OPENSEARCH = [Flavor("opensearch", (1, 3)), Flavor("opensearch", (2, 5)), Flavor("opensearch", (2, 11)),
              Flavor("opensearch", (2, 11), compatibility_mode=True), Flavor("opensearch", (3, 3)),
              Flavor("serverless")]
NAMINGS = [IndexNaming("cwl"), IndexNaming.stream("aws.lambda", "default")]
# Elasticsearch bodies must fit both majors' definitions.
ALSO_ES8 = {"EsIndexTemplateBody": "Es8IndexTemplateBody", "EsIlmPolicyBody": "Es8IlmPolicyBody",
            "EsBulkAction": "Es8BulkAction"}


def nested(settings: dict[str, Any]) -> dict[str, Any]:
    """``{"index.mode": "standard"}`` -> ``{"index": {"mode": "standard"}}``, as the engines normalise settings."""
    out: dict[str, Any] = {}
    for key, value in settings.items():
        *path, last = key.split(".")
        node = out
        for part in path:
            node = node.setdefault(part, {})
        node[last] = nested(value) if isinstance(value, dict) else value
    return out


def bodies_sent() -> list[tuple[str, str, Any]]:
    """(name, the engine's type, body) for everything the installer and the shipper send, per engine and version."""
    bodies: list[tuple[str, str, Any]] = []
    for flavor in ELASTICSEARCH + OPENSEARCH:
        es = flavor.distribution == "elasticsearch"
        for naming in NAMINGS:
            for mode in ("standard", "logsdb") if flavor.sets_index_mode else ("standard",):
                name = f"{flavor.described}_{naming.name}_{mode}"
                body = template_body(naming, flavor, naming.name if es else None, mode)
                bodies.append((name, "EsIndexTemplateBody" if es else "OsIndexTemplateBody", body))
                bodies.append((name + "_settings", "EsStrictSettings" if es else "OsStrictSettings",
                               nested(body["template"]["settings"])))
            if flavor.lifecycle == "_ilm":
                bodies.append((f"{flavor.described}_{naming.name}_ilm", "EsIlmPolicyBody",
                               ilm_policy(30, rollover=naming.is_stream, version=flavor.version)))
    for naming in NAMINGS:
        bodies.append((f"{naming.name}_ism", "OsIsmPolicyBody", ism_policy(naming, 30)))
    bodies += [("ism_add", "OsIsmAddBody", ism_attach_body("logship-cwl")),
               ("ism_change_policy", "OsIsmChangeBody", ism_attach_body("logship-cwl")),
               ("ilm_attach", "EsStrictSettings", ilm_attach_settings("logship-cwl"))]
    for document_id in ("37562519378201387218921903893736151405226410315914592256", None, "sha256-9f/+a=b"):
        action = json.loads(action_line(action_start("cwl-2025.11.22"), document_id))
        bodies += [(f"bulk_create_{document_id}", "EsBulkAction", action),
                   (f"bulk_create_{document_id}_os", "OsBulkAction", action)]
    return bodies


def known_wrong() -> list[tuple[str, str, Any]]:
    """Bodies the engines refuse, each one change away from one of ours: the check must refuse them too."""
    es_body = template_body("cwl", Flavor("elasticsearch", (8, 15)), "logship-cwl")
    os_body = template_body("cwl", Flavor("opensearch", (2, 11)))
    ilm = ilm_policy(30, rollover=True, version=(8, 15))
    ism = ism_policy(IndexNaming.stream("aws.lambda", "default"), 30)

    def changed(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
        body = copy.deepcopy(body)
        *parents, last = path.split("/")
        node = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value
        return body

    return [
        ("flat_object_on_elasticsearch", "EsIndexTemplateBody",
         changed(es_body, "template/mappings/properties/json", {"type": "flat_object"})),
        ("flattened_on_opensearch", "OsIndexTemplateBody",
         changed(os_body, "template/mappings/properties/json", {"type": "flattened"})),
        ("ilm_unknown_rollover_condition", "EsIlmPolicyBody",
         changed(ilm, "policy/phases/hot/actions/rollover/max_sizee", "50gb")),
        ("ism_rollover_with_ilms_condition", "OsIsmPolicyBody",
         changed(ism, "policy/states/0/actions/0/rollover/max_age", "1d")),
        ("ism_unknown_action", "OsIsmPolicyBody", changed(ism, "policy/states/1/actions/0", {"delet": {}})),
        ("unknown_setting", "EsStrictSettings", nested({"index.mapping.total_fields.limitt": 2000})),
        ("keyword_typo", "OsIndexTemplateBody",
         changed(os_body, "template/mappings/properties/log/properties/level/ignore_abov", 1024)),
        ("bulk_two_operations", "EsBulkAction", {"create": {"_index": "cwl"}, "index": {"_index": "cwl"}}),
    ]


def check_file(bodies: list[tuple[str, str, Any]]) -> str:
    """The TypeScript file: one typed constant per body (Elasticsearch's twice: the 9 and the 8 definitions)."""
    lines = [f'import type * as T from "{TYPES / "engine-types"}";', ""]
    for number, (name, type_, body) in enumerate(bodies):
        for alias in (type_, ALSO_ES8.get(type_)):
            if alias:
                lines.append(f"// {name}\nconst body{number}_{alias}: T.{alias} = {json.dumps(body, indent=1)};")
    return "\n".join(lines) + "\n"


def tsc(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "Node.js is needed to check the bodies against the engines' types"
    assert TSC.exists(), "the engines' client types are not installed: run `make engine-types` (npm ci)"
    (tmp_path / "check.ts").write_text(source)
    config = json.loads((TYPES / "tsconfig.json").read_text())
    config["compilerOptions"]["paths"] = {alias: [str(TYPES / target) for target in targets]
                                          for alias, targets in config["compilerOptions"]["paths"].items()}
    config["compilerOptions"]["typeRoots"] = [str(TYPES / "node_modules" / "@types")]
    config["files"] = [str(tmp_path / "check.ts")]
    (tmp_path / "tsconfig.json").write_text(json.dumps(config))
    return subprocess.run([node, str(TSC), "-p", str(tmp_path / "tsconfig.json")], capture_output=True, text=True,
                          timeout=300, check=False)


def test_every_body_logship_sends_is_what_the_engines_define(tmp_path):
    bodies = bodies_sent()

    done = tsc(tmp_path, check_file(bodies))

    assert done.returncode == 0, f"tsc refused (see {tmp_path / 'check.ts'}):\n{done.stdout}{done.stderr}"
    checked = {name.split("_")[0] for name, _, _ in bodies}
    assert checked >= {flavor.described for flavor in ELASTICSEARCH + OPENSEARCH}  # every engine and version above


@pytest.mark.parametrize("case", known_wrong(), ids=lambda case: case[0])
def test_the_check_refuses_what_the_engine_refuses(case, tmp_path):
    name, type_, body = case

    done = tsc(tmp_path, check_file([(name, type_, body)]))

    assert done.returncode != 0, f"{name} passed the engine's types"
    assert "check.ts(" in done.stdout  # the error is in the body, not in the setup
