"""The cluster's checks: what it is (the domain or collection, by AWS's answer), its secret, whether it answers with
the stack's authentication (asked from this machine), and what the install put there: the index template, the
retention policy (ISM or ILM) and, with fine-grained access control, the roles' mappings.

The cluster is asked with the layer's own client and detection (init's ``facts.cluster``); from a laptop that says
nothing of the functions' network, which ``doctor.network`` reads from the VPC's configuration instead.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from opensearchpy.exceptions import OpenSearchException

from logship_cli.doctor.report import HERE, LOGGED
from logship_cli.doctor.run import Run
from logship_cli.errors import CliError
from logship_cli.init import facts
from logship_cli.init.plan import flavor_parameter, mapping_fix

ROLES = ("ShipLogsRoleArn", "InstallIndexTemplateRoleArn")
_TIMEOUT_S = 10.0


def identify(run: Run) -> None:
    """The domain or collection the endpoint names (DescribeDomains, BatchGetCollection), and the ARN the roles'
    grants name (OpenSearchDomainArn, OpenSearchCollectionArn)."""
    setup, report = run.setup, run.report
    if not setup.ships:
        report.ok("cluster", f"none to reach: Role={setup['Role']} sends to the central account's destination "
                  f"{setup['CentralDestinationArn'] or setup['CentralStreamArn'] or '(not given)'}")
        return
    if setup.cloud_id:
        from logship.core.config import ConfigError, cloud_endpoint

        try:
            report.ok("cluster", f"Elastic Cloud deployment {setup.cloud_id.rpartition(':')[0]}: "
                      f"{cloud_endpoint(setup.cloud_id)}")
        except ConfigError as exc:
            report.fail("cluster", str(exc), "give the Cloud ID the deployment's page shows (logship init --cloud-id)")
        return
    if not setup.endpoint:
        report.fail("cluster", "no OpenSearchEndpoint and no ElasticCloudId", "run `logship init`: it asks where the "
                    "cluster is and writes the parameters")
        return
    where = facts.Where(url=setup.endpoint)
    try:
        if facts.is_collection_host(where.host):
            _collection(run, facts.collection(run.aws, where))
            return
        run.domain = facts.domain(run.aws, where)
    except CliError as exc:
        report.fail("cluster", exc.message, "check the endpoint and the account and region you are logged in to")
        return
    except (ClientError, BotoCoreError) as exc:  # a permission you lack: the cluster is still asked below
        from logship.core.aws_calls import error_code

        report.warn("cluster", "could not describe the region's domains ({}: {})".format(*error_code(exc)),
                    "your credentials need es:ListDomainNames and es:DescribeDomains")
        return
    if run.domain is None:
        if facts.is_domain_host(where.host):
            report.fail("cluster", f"no domain answers to {where.host} in {facts.domain_region(where.host)} for these "
                        "credentials", "check OpenSearchEndpoint, and the account you are logged in to (aws sts "
                        "get-caller-identity)")
        else:
            report.ok("cluster", f"{setup.endpoint}: a cluster of your own (not an OpenSearch Service domain of this "
                      "account: nothing to describe)")
        return
    _domain(run, run.domain)


def _domain(run: Run, domain: Any) -> None:
    network = f"VPC-only ({domain.vpc_id})" if domain.in_vpc else "public endpoint"
    security = "fine-grained access control " + ("on" if domain.fine_grained else "off")
    run.report.ok("cluster", f"domain {domain.name}: {domain.described}, {network}, {security}")
    granted = run.setup["OpenSearchDomainArn"]
    if run.setup.auth == "sigv4" and granted != domain.arn:
        run.report.fail("roles' grant", f"the roles may sign for {granted or 'no domain'} (OpenSearchDomainArn), and "
                        f"the endpoint is domain {domain.name}'s", f"deploy with OpenSearchDomainArn={domain.arn} "
                        "(logship init writes it)")


def _collection(run: Run, collection: Any) -> None:
    run.collection = collection
    run.report.ok("cluster", f"OpenSearch Serverless collection {collection.name} ({collection.type})")
    granted = run.setup["OpenSearchCollectionArn"]
    if run.setup.auth == "sigv4" and granted != collection.arn:
        run.report.fail("roles' grant", f"the roles may use {granted or 'no collection'} (OpenSearchCollectionArn), "
                        f"and the endpoint is collection {collection.name}'s", "deploy with "
                        f"OpenSearchCollectionArn={collection.arn} (logship init writes it)")
    if collection.type == "TIMESERIES" and run.setup["DocumentIds"] != "false":
        run.report.fail("document ids", "a time series collection refuses document ids, and DocumentIds is true: the "
                        "installer refuses the deploy", "deploy with DocumentIds=false (docs/indices.md)")


def secret(run: Run) -> None:
    """The secret basic and apikey read (DescribeSecret, DescribeKey): there, in the stack's region, and decryptable
    by the functions (OpenSearchSecretKmsKeyArn names its customer managed key)."""
    setup, report = run.setup, run.report
    if setup.auth not in ("basic", "apikey"):
        return
    arn = setup.settings.get("OPENSEARCH_SECRET_ARN", "")
    if not arn:
        report.fail("secret", f"OpenSearchAuth={setup.auth} and no OpenSearchSecretArn", "give the secret: "
                    "logship init --secret-arn ARN")
        return
    try:
        found = facts.secret(run.aws, arn)
    except CliError as exc:
        report.fail("secret", exc.message.split(":", 1)[0], exc.message.split(": ", 1)[-1])
        return
    except (ClientError, BotoCoreError) as exc:
        from logship.core.aws_calls import error_code

        report.warn("secret", "could not describe {} ({}: {})".format(arn, *error_code(exc)),
                    "your credentials need secretsmanager:DescribeSecret and kms:DescribeKey")
        return
    given = setup["OpenSearchSecretKmsKeyArn"]
    if found.region != setup.region:
        report.fail("secret", f"{found.arn} is in {found.region}; the functions read it in {setup.region}",
                    f"replicate it to {setup.region} (Secrets Manager replication) and give that ARN")
    elif found.kms_key_arn and given != found.kms_key_arn:
        report.fail("secret", f"encrypted with the customer managed key {found.kms_key_arn}; the functions may decrypt "
                    f"only with {given or 'no key'} (OpenSearchSecretKmsKeyArn)",
                    f"deploy with OpenSearchSecretKmsKeyArn={found.kms_key_arn}")
    elif found.kms_unknown:
        report.warn("secret", f"{found.arn}: could not tell {found.kms_unknown}", "if it is a customer managed key, "
                    "deploy with OpenSearchSecretKmsKeyArn set to it")
    else:
        report.ok("secret", f"{found.arn}" + (f", encrypted with {found.kms_key_arn}" if found.kms_key_arn else
                                              ", encrypted with Secrets Manager's AWS managed key"))


def answers(run: Run) -> None:
    """Ask the cluster what it is, with the stack's authentication, from this machine (the installer's detection)."""
    from logship.core.config import ConfigError, ShipperConfig

    setup, report = run.setup, run.report
    if not (setup.endpoint or setup.cloud_id):
        return
    try:
        run.config = ShipperConfig.from_env(setup.settings)
    except ConfigError as exc:
        from logship_cli.errors import explain

        report.fail("settings", explain(exc).message, "fix that parameter (logship init writes values the functions "
                    "take)")
        return
    if not run.ask_cluster:
        report.skip("the cluster itself (--no-cluster): whether it answers, the index template, retention and role "
                    "mappings")
        return
    signer = " (your credentials: the functions sign with their own roles)" if setup.auth == "sigv4" else ""
    try:
        reply = facts.cluster(setup.settings, serverless=run.config.serverless, timeout_s=_TIMEOUT_S)
    except (OpenSearchException, ClientError, BotoCoreError) as exc:  # neither what it is nor a refusal
        from logship_cli.errors import explain

        run.unreachable = explain(exc, endpoint=run.config.endpoint).message
        report.fail("answers", run.unreachable, "fix what the cluster says, then run logship doctor again", HERE)
        return
    if reply.flavor is not None:
        run.flavor = reply.flavor
        run.client = facts.connect(run.config, _TIMEOUT_S)
        report.ok("answers", f"{reply.flavor.described}, with {setup.auth}{signer}", via=HERE)
        _flavor(run, reply.flavor)
    elif reply.refused:
        _refused(run, reply.refused, signer)
    else:
        _unreachable(run, reply.unreachable)


def _flavor(run: Run, flavor: Any) -> None:
    wanted, given = flavor_parameter(flavor), "elasticsearch" if run.config.elasticsearch else "opensearch"
    if given == "elasticsearch" and wanted != "elasticsearch":
        run.report.fail("ClusterFlavor", f"elasticsearch, and the cluster is {flavor.described}: only Elasticsearch 8 "
                        "and 9 take its compatibility headers (the installer refuses the deploy)",
                        "deploy with ClusterFlavor=opensearch", HERE)
    elif wanted != given:
        run.report.ok("ClusterFlavor", f"opensearch (plain JSON) on {flavor.described}, which takes it; "
                      "ClusterFlavor=elasticsearch would send its REST compatibility headers", via=HERE)


def _refused(run: Run, reason: str, signer: str) -> None:
    if run.setup.auth == "sigv4":  # your identity, not the roles': it tells nothing of them
        run.report.warn("answers", f"refused your signature{signer}: {reason[:200]}", "to ask it from here your "
                        "identity needs es:ESHttpGet (and, with fine-grained access control, a role mapping); the "
                        "stack's roles have their own grants", HERE)
    else:
        what = "username and password" if run.setup.auth == "basic" else "API key"
        run.report.fail("answers", f"refused {run.setup.auth}: {reason[:300]}", f"check the secret's {what} (the "
                        f"functions read the same secret), and that the cluster takes {run.setup.auth}", HERE)


def _unreachable(run: Run, why: str) -> None:
    run.unreachable = why
    if run.vpc_only:
        run.report.warn("answers", "no answer from this machine, as from outside a VPC-only domain's VPC",
                        "what the network allows is checked below; from inside the VPC (a bastion, a VPN), "
                        "logship doctor asks the cluster itself", HERE)
    elif run.setup.subnets:
        run.report.warn("answers", f"{why[:300]}", "the functions run in the VPC: if only they reach the cluster, "
                        "run logship doctor from inside it", HERE)
    else:
        run.report.fail("answers", f"{why[:300]}", "the functions (outside any VPC) reach the cluster as this machine "
                        "does: check the endpoint and the cluster", HERE)


def pipeline(run: Run) -> None:
    """IngestPipeline must exist: the installer refuses the deploy otherwise, and every batch would fail."""
    name = run.config.ingest_pipeline if run.config else ""
    if not name or run.client is None:
        return
    from urllib.parse import quote

    from opensearchpy.exceptions import NotFoundError, TransportError

    try:
        run.client.transport.perform_request("GET", f"/_ingest/pipeline/{quote(name, safe='')}")
    except NotFoundError:
        run.report.fail("ingest pipeline", f"{name} does not exist", f"create it (PUT _ingest/pipeline/{name}), or "
                        "deploy with IngestPipeline empty", HERE)
        return
    except TransportError as exc:
        run.report.warn("ingest pipeline", f"could not read {name} ({_said(exc)})",
                        "check that your credentials may read ingest pipelines", HERE)
        return
    run.report.ok("ingest pipeline", f"{name} exists", via=HERE)


def template(run: Run) -> None:
    """The index template for the stack's indices: asked of the cluster, else as the installer last logged it."""
    if run.config is None:
        return
    naming = run.config.naming
    if run.client is None:
        _as_logged(run)
        return
    from opensearchpy.exceptions import NotFoundError, TransportError

    try:
        found = run.client.indices.get_index_template(name=naming.name)["index_templates"][0]["index_template"]
    except NotFoundError:
        _template_missing(run, naming.name)
        return
    except TransportError as exc:
        run.report.warn("index template", f"could not read {naming.name} ({_said(exc)})",
                        "your credentials need to read index templates (with fine-grained access control, a role "
                        "mapping)", HERE)
        return
    patterns = sorted(found.get("index_patterns") or [])
    if patterns != sorted(naming.patterns):
        run.report.warn("index template", f"{naming.name} is there for {', '.join(patterns)}, not "
                        f"{', '.join(naming.patterns)}: an earlier install's", "deploy again (or logship setup-index): "
                        "the installer replaces it", HERE)
    else:
        run.report.ok("index template", f"{naming.name} for {naming.described}", via=HERE)


def _template_missing(run: Run, name: str) -> None:
    installs = run.setup["InstallIndexTemplate"] != "false"
    if run.setup.deployed is None:
        if installs:
            run.report.ok("index template", f"{name} is not there yet: the deploy installs it", via=HERE)
        else:
            run.report.warn("index template", f"{name} is not there, and the deploy will not install it "
                            "(InstallIndexTemplate=false)", "once the roles are let in, deploy with "
                            "InstallIndexTemplate=true, or run logship setup-index", HERE)
        return
    logged = _last_install(run)
    why = f"; the installer last logged: {logged}" if logged else ""
    run.report.fail("index template", f"{name} is not there{why}", "deploy with InstallIndexTemplate=true (logship "
                    "init --install-index-template --yes && sam deploy), or run logship setup-index" if not installs
                    else "fix what the installer says (logship status), then deploy again or run logship setup-index",
                    HERE)


def _last_install(run: Run) -> str:
    from logship_cli.commands.status import last_install

    if not run.setup.outputs.get("InstallIndexTemplateFunctionArn"):
        return ""
    found = last_install(run.aws)
    return f"{found.get('status')}: {str(found.get('reason', ''))[:300]}" if found else ""


def _as_logged(run: Run) -> None:
    """Without an answer from here, what the installer (in the functions' network) last logged: status's reading."""
    if run.setup.deployed is None:
        run.report.skip("the index template, retention and role mappings: the cluster did not answer from here, and "
                        "nothing is deployed whose installer could have said")
        return
    from logship_cli.commands.status import last_install

    found = last_install(run.aws) if run.setup.outputs.get("InstallIndexTemplateFunctionArn") else None
    if found is None:
        run.report.warn("index template", "the cluster did not answer from here, and the installer logged no install "
                        "(InstallIndexTemplate=false, or its logs expired)", "logship setup-index from a machine that "
                        "reaches the cluster installs it", LOGGED)
    elif found.get("status") != "SUCCESS":
        run.report.fail("index template", f"the last install failed: {str(found.get('reason', ''))[:400]}",
                        "fix what it says, then deploy again (or logship setup-index)", LOGGED)
    else:
        from logship.core.timefmt import iso_millis

        run.report.ok("index template", f"installed ({found.get('request_type')}, {iso_millis(found['_at'])}): "
                      f"{str(found.get('reason', ''))[:400]}", via=LOGGED)
        if "has no lifecycle API" in str(found.get("reason", "")):
            run.report.warn("retention", "the cluster has no lifecycle API: nothing deletes old indices",
                            "delete them yourself, or install ISM/ILM and deploy again", LOGGED)


def retention(run: Run) -> None:
    """The retention policy (ISM on OpenSearch, ILM on Elasticsearch), and that it says what IndexRetentionDays does."""
    if run.client is None or run.flavor is None:
        return
    config, flavor, report = run.config, run.flavor, run.report
    days, naming, lifecycle = config.index_retention_days, config.naming, run.flavor.lifecycle
    if not lifecycle:
        report.warn("retention", "OpenSearch Serverless has no ISM: logship installs no retention policy",
                    "give the collection a data lifecycle policy (aws opensearchserverless create-lifecycle-policy)",
                    HERE)
        return
    if not days:
        report.ok("retention", "none (IndexRetentionDays=0): delete old indices yourself", via=HERE)
        return
    from opensearchpy.exceptions import TransportError

    from logship.cluster.answers import ClusterAnswer
    from logship.cluster.retention import absent, holds, ilm_policy, ism_policy

    api = "ILM" if lifecycle == "_ilm" else "ISM"
    path = f"/_ilm/policy/{naming.name}" if lifecycle == "_ilm" else f"/{lifecycle}/policies/{naming.name}"
    try:
        stored = run.client.transport.perform_request("GET", path)
    except TransportError as exc:
        answer = ClusterAnswer.of(exc)
        if answer.unknown_path:
            found = absent(lifecycle, answer, naming).skipped[0].removeprefix("retention: ")
            report.warn("retention", found.split(": delete")[0], f"install {api} and deploy again, or deploy with "
                        "IndexRetentionDays=0 and delete old indices yourself", HERE)
        elif answer.status == 404:
            _policy_missing(run, naming.name, api)
        else:
            report.warn("retention", f"could not read {api} policy {naming.name} ({answer})", "your credentials need "
                        f"to read {api} policies", HERE)
        return
    policy = (stored.get(naming.name) or {}).get("policy") if lifecycle == "_ilm" else stored.get("policy")
    sent = (ilm_policy(days, rollover=naming.is_stream, version=flavor.version) if lifecycle == "_ilm"
            else ism_policy(naming, days))["policy"]
    sent = {key: value for key, value in sent.items() if key != "ism_template"}  # ISM stores it as a list
    if holds(policy, sent):
        report.ok("retention", f"{api} policy {naming.name}: delete after {days} days", via=HERE)
    elif run.setup.deployed is None:
        report.ok("retention", f"{api} policy {naming.name} is there; the deploy sets it to {days} days", via=HERE)
    else:
        report.warn("retention", f"{api} policy {naming.name} does not say {days} days (IndexRetentionDays)",
                    "deploy again (or logship setup-index): the installer updates it", HERE)


def _policy_missing(run: Run, name: str, api: str) -> None:
    if run.setup.deployed is None:
        run.report.ok("retention", f"{api} is there; policy {name} is not yet: the deploy installs it", via=HERE)
        return
    logged = _last_install(run)
    run.report.fail("retention", f"no {api} policy {name}: nothing deletes old indices" +
                    (f"; the installer last logged: {logged}" if logged else ""),
                    "deploy again with InstallIndexTemplate=true, or run logship setup-index", HERE)


def access(run: Run) -> None:
    """Whether the stack's roles are let in: with fine-grained access control, their role mappings (the security
    plugin's REST API, asked from here); on Serverless, the data access policy (not read: said what to add)."""
    setup, report = run.setup, run.report
    if setup.auth != "sigv4":
        if setup.endpoint or setup.cloud_id:
            report.skip(f"what the secret's user may do on the stack's indices ({setup.auth}): the cluster's answers "
                        "to the first batches tell (logship status, the ship-logs-pending alarm)")
        return
    roles = _roles(setup.outputs)
    if run.collection is not None:
        report.skip(f"collection {run.collection.name}'s data access policy: add {roles} to it (the shipper may write "
                    "the stack's indices, the installer may create index templates)")
        return
    domain = run.domain
    if domain is None:
        return
    if not domain.fine_grained:
        report.ok("access", f"domain {domain.name} has no fine-grained access control: the roles' IAM grants let them "
                  "in")
        return
    if setup.deployed is None:
        if setup["InstallIndexTemplate"] != "false":
            report.fail("access", "fine-grained access control is on: the installer's role must be mapped before it "
                        "installs anything, and it exists only once the stack does", "deploy first with "
                        f"InstallIndexTemplate=false (logship init --config-env {setup.config_env} "
                        "--no-install-index-template --yes), map the roles, then deploy with true")
        else:
            report.warn("access", "fine-grained access control is on: the roles need role mappings, once the stack "
                        "makes them", "after the deploy, " + mapping_fix(roles))
        return
    _mappings(run, roles)


def _roles(outputs: dict[str, str]) -> str:
    named = [outputs[key] for key in ROLES if outputs.get(key)]
    return " and ".join(named) if named else "the stack's ShipLogsRoleArn and InstallIndexTemplateRoleArn outputs"


def _mappings(run: Run, roles: str) -> None:
    """``GET _plugins/_security/api/rolesmapping``: each role with its ``backend_roles`` (OpenSearch's security plugin
    REST API); the stack's role ARNs must be among them."""
    if run.client is None:
        run.report.warn("access", "fine-grained access control is on; the role mappings could not be asked from here",
                        mapping_fix(roles) + " (run logship doctor where the cluster answers to check them)")
        return
    from opensearchpy.exceptions import TransportError

    try:
        mappings = run.client.transport.perform_request("GET", "/_plugins/_security/api/rolesmapping")
    except TransportError as exc:
        run.report.warn("access", f"could not read the role mappings ({_said(exc)})",
                        "your identity needs the security REST API (all_access or security_rest_api_access); or "
                        "check in Dashboards: " + mapping_fix(roles), HERE)
        return
    unmapped = []
    for key in ROLES:
        arn = run.setup.outputs.get(key, "")
        mapped = [role for role, mapping in (mappings or {}).items() if isinstance(mapping, dict) and arn in (
            mapping.get("backend_roles") or []) + (mapping.get("users") or [])]
        if not arn:
            continue
        if mapped:
            run.report.ok("access", f"{key} is mapped to {', '.join(sorted(mapped))}", via=HERE)
        else:
            unmapped.append(arn)
    if unmapped:
        run.report.fail("access", f"not mapped: {' and '.join(unmapped)}", mapping_fix(" and ".join(unmapped)), HERE)


def _said(exc: Any) -> str:
    """A refusal in the cluster's words: Elasticsearch's and OpenSearch's ``error``, or the security plugin's
    ``message``."""
    from logship.cluster.answers import ClusterAnswer

    info = exc.info if isinstance(exc.info, dict) else {}
    if "error" not in info and isinstance(info.get("message"), str):
        return f"{exc.status_code}: {info['message'][:200]}"
    return str(ClusterAnswer.of(exc))[:300]
