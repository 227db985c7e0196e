"""``logship init``'s questions, asked only when neither a flag, the config environment nor AWS answers them.

Where the cluster is, how to reach it, and (for a VPC-only domain) which network: each question has a flag, and
``--yes`` asks nothing (a question still open is then a usage error naming its flag). Every fact is found as the
answers come, and said as it is found.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import click

from logship.core.config import AUTH_MODES, ConfigError, cloud_endpoint
from logship_cli.context import Aws
from logship_cli.errors import FAILED, USAGE, CliError
from logship_cli.init import facts as find
from logship_cli.init.plan import Answers, Facts
from logship_cli.render import line

SECRET_SHAPES = {"basic": '{"username": ..., "password": ...}',
                 "apikey": '{"id": ..., "api_key": ...} or {"encoded": ...}'}


@dataclass
class Given:
    """The flags (None: not given)."""

    endpoint: str | None = None
    cloud_id: str | None = None
    auth: str | None = None
    secret_arn: str | None = None
    secret_kms_key_arn: str | None = None
    domain_arn: str | None = None
    subnets: str | None = None
    security_groups: str | None = None
    prefix: str | None = None
    subscription_mode: str | None = None
    create_trail: bool | None = None
    install_index_template: bool | None = None
    check: bool = True


@dataclass
class Interview:
    """One run of init's questions: ``Interview(aws, out, yes, previous).run(given, config_env)``."""

    aws: Aws
    out: Any  # a rich Console
    yes: bool
    previous: dict[str, str] = field(default_factory=dict)  # the config environment's parameter overrides

    def ask(self, question: str, flag: str, default: str | None = None, choices: tuple[str, ...] = ()) -> str:
        """The answer to ``question``; with --yes its default, or a usage error naming ``flag`` if it has none."""
        if self.yes:
            if default is None:
                raise CliError(f"{question}: give {flag} (with --yes, init asks nothing)", USAGE)
            return default
        kind = click.Choice(choices) if choices else None
        return str(click.prompt(question, default=default, type=kind)).strip()

    def say(self, text: str) -> None:
        line(self.out, text)

    def run(self, given: Given, config_env: str) -> tuple[Answers, Facts]:
        where = self._where(given)
        domain, collection, endpoint = self._cluster(where, given)
        same = endpoint == self.previous.get("OpenSearchEndpoint", "") and \
            where.cloud_id == self.previous.get("ElasticCloudId", "")  # earlier answers hold for the same cluster
        auth = self._auth(given, where, domain, collection, same)
        secret = self._secret(given, auth, same)
        subnets, groups = self._vpc(given, domain, same)
        network = find.network(self.aws, subnets, groups, domain.security_groups if domain else ()) \
            if subnets else None
        answers = Answers(endpoint, where.cloud_id, auth, secret.arn if secret else "",
                          given.secret_kms_key_arn or "", given.domain_arn or "", subnets, groups,
                          given.prefix or self.previous.get("IndexPrefix") or "cwl",
                          given.subscription_mode or self.previous.get("SubscriptionMode"),
                          given.create_trail, given.install_index_template)
        reply = self._probe(answers, domain, collection) if given.check else None
        found = Facts(self.aws.stack, self.aws.region, config_env, domain, collection, secret, reply, network,
                      *self._account())
        return self._prefix(answers, found, given), found

    # ------------------------------------------------------------------------------------------------- the cluster
    def _where(self, given: Given) -> find.Where:
        if given.cloud_id:
            return find.Where(cloud_id=given.cloud_id)
        text = given.endpoint
        if not text and (self.previous.get("OpenSearchEndpoint") or self.previous.get("ElasticCloudId")):
            text = self.previous.get("OpenSearchEndpoint") or self.previous["ElasticCloudId"]
            self.say(f"the cluster from the config environment: {text}")
        if not text:
            names = find.domains_here(self.aws) if not self.yes else []
            if names:
                self.say(f"domains in {self.aws.region}: {', '.join(names)}")
            text = self.ask("Where is the cluster? (a domain's endpoint or name, a Serverless collection's "
                            "endpoint, any https:// URL, or an Elastic Cloud id)", "--endpoint (or --cloud-id)",
                            names[0] if len(names) == 1 else None)
        return find.Where.read(text)

    def _cluster(self, where: find.Where, given: Given) -> tuple[find.Domain | None, find.Collection | None, str]:
        if where.cloud_id:
            try:
                endpoint = cloud_endpoint(where.cloud_id)
            except ConfigError as exc:
                raise CliError(str(exc).replace("ELASTIC_CLOUD_ID", "--cloud-id"), USAGE) from None
            self.say(f"==> Elastic Cloud deployment {where.cloud_id.rpartition(':')[0]}: {endpoint}")
            return None, None, ""
        if find.is_collection_host(where.host):
            collection = find.collection(self.aws, where)
            self.say(f"==> OpenSearch Serverless collection {collection.name} ({collection.type}): {collection.arn}")
            return None, collection, where.url
        domain = find.domain(self.aws, where)
        if domain is None and (where.domain_name or find.is_domain_host(where.host)) and not given.domain_arn:
            name = where.domain_name or where.host
            region = find.domain_region(where.host) or self.aws.region
            raise CliError(f"no domain {name} in {region} for these credentials: check --region and the account "
                           "you are logged in to (aws sts get-caller-identity); for a domain of another account "
                           "give its --domain-arn", USAGE)
        if domain is None:
            self.say(f"==> {where.url}: not a domain of this account in {self.aws.region} (a cluster of your own)")
            return None, None, where.url
        self.say(f"==> Amazon OpenSearch Service domain {domain.name}: {domain.described}, {domain.arn}")
        network = (f"VPC-only ({domain.vpc_id}, subnets {','.join(domain.subnets)}, security groups "
                   f"{','.join(domain.security_groups)})" if domain.in_vpc else "public endpoint")
        security = ("fine-grained access control on" + (" (internal user database)" if domain.internal_users else "")
                    if domain.fine_grained else "fine-grained access control off")
        self.say(f"    {network}; {security}")
        return domain, None, where.url or domain.endpoint

    def _auth(self, given: Given, where: find.Where, domain: Any, collection: Any, same: bool) -> str:
        auth = given.auth or (self.previous.get("OpenSearchAuth") if same else None)
        if auth is None and (domain or collection):
            auth = "sigv4"
        elif auth is None and where.cloud_id:
            auth = "apikey"
        elif auth is None:
            auth = self.ask("How do the functions authenticate to it?", "--auth", None if self.yes else "basic",
                            AUTH_MODES)
        if auth not in AUTH_MODES:
            raise CliError(f"--auth {auth!r} is not one of {', '.join(AUTH_MODES)}", USAGE)
        if where.cloud_id and auth == "sigv4":
            raise CliError("Elastic Cloud does not take AWS signatures: give --auth apikey (or basic) with "
                           "--secret-arn", USAGE)
        return auth

    def _secret(self, given: Given, auth: str, same: bool) -> find.Secret | None:
        if auth not in SECRET_SHAPES:
            return None
        arn = given.secret_arn or (self.previous.get("OpenSearchSecretArn") if same else None) or self.ask(
            f"Which Secrets Manager secret (ARN or name) holds {SECRET_SHAPES[auth]}?", "--secret-arn")
        found = find.secret(self.aws, arn)
        self.say(f"    secret {found.arn}" + (f", encrypted with {found.kms_key_arn}" if found.kms_key_arn else ""))
        return found

    def _vpc(self, given: Given, domain: find.Domain | None, same: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
        earlier = (self.previous.get("VpcSubnetIds", ""), self.previous.get("VpcSecurityGroupIds", "")) \
            if same else ("", "")
        proposed = (",".join(domain.subnets), ",".join(domain.security_groups)) if domain and domain.in_vpc \
            else earlier
        subnets = given.subnets if given.subnets is not None else earlier[0] or proposed[0]
        groups = given.security_groups if given.security_groups is not None else earlier[1] or proposed[1]
        if subnets and given.subnets is None and not self.yes and not click.confirm(
                f"Run ship-logs and install-index-template in subnets {subnets} with security groups {groups}?",
                default=True):
            subnets = self.ask("Which subnets? (comma-separated, routing to the domain)", "--subnets", subnets)
            groups = self.ask("Which security groups? (comma-separated)", "--security-groups", groups)
        split = (tuple(filter(None, (s.strip() for s in subnets.split(",")))),
                 tuple(filter(None, (g.strip() for g in groups.split(",")))))
        if bool(split[0]) != bool(split[1]):
            raise CliError("give --subnets and --security-groups together (a function in a VPC needs both), or "
                           "neither", USAGE)
        return split

    def _probe(self, answers: Answers, domain: find.Domain | None, collection: Any) -> find.Reply:
        settings = {"AWS_REGION": self.aws.region, "OPENSEARCH_AUTH": answers.auth,
                    "OPENSEARCH_SECRET_ARN": answers.secret_arn}
        settings |= {"ELASTIC_CLOUD_ID": answers.cloud_id} if answers.cloud_id else \
            {"OPENSEARCH_ENDPOINT": answers.endpoint}
        signer = " (your credentials: the functions sign with their own roles)" if answers.auth == "sigv4" else ""
        try:
            reply = find.cluster(settings, serverless=collection is not None)
        except ConfigError as exc:
            from logship_cli.errors import explain

            raise explain(exc) from None
        if reply.flavor is not None:
            self.say(f"    it answers with {answers.auth}{signer}: {reply.flavor.described}")
        elif reply.refused:
            raise CliError(_refused(answers, reply.refused, domain, signer), FAILED)
        elif domain is not None and domain.in_vpc:
            self.say("    not reachable from here, as a VPC-only domain is: the installer checks it at deploy, "
                     "from the subnets")
        else:
            raise CliError(f"{reply.unreachable}. Nothing written. If only the functions can reach it (a private "
                           "network), run init again with --no-check: the installer checks it at deploy", FAILED)
        return reply

    # ------------------------------------------------------------------------------------------------- the account
    def _account(self) -> tuple[Any, Any, Any]:
        trails, policies, stacks = find.trails(self.aws), find.account_policies(self.aws), \
            find.logship_stacks(self.aws)
        if isinstance(trails, list):
            delivering = [t.name for t in trails if t.delivers]
            self.say(f"==> CloudTrail in {self.aws.region}: " + (
                f"trail {', '.join(delivering)} logs management events" if delivering else
                "no trail logs management events" + (f" ({len(trails)} trail(s) do not)" if trails else "")))
        if isinstance(policies, list) and policies:
            self.say(f"==> account subscription filter policy: {', '.join(p.name for p in policies)}")
        if isinstance(stacks, list) and stacks:
            self.say(f"==> logship stacks in {self.aws.region}: {', '.join(s.name for s in stacks)}")
        return trails, policies, stacks

    def _prefix(self, answers: Answers, found: Facts, given: Given) -> Answers:
        """Stacks shipping to one cluster need their own prefixes (each retention policy deletes its own indices)."""
        target = answers.endpoint or answers.cloud_id
        clash = [s.name for s in (found.stacks if isinstance(found.stacks, list) else [])
                 if s.name != found.stack and s.endpoint == target
                 and s.parameters.get("IndexPrefix", "cwl") == answers.prefix]
        if not clash:
            return answers
        said = f"stack {clash[0]} ships to this cluster with IndexPrefix {answers.prefix} too"
        if given.prefix or self.yes:
            raise CliError(f"{said}: give another --prefix (each stack's retention policy deletes its own indices)",
                           USAGE)
        self.say(f"    {said}")
        return replace(answers, prefix=self.ask("Which index prefix for this stack?", "--prefix",
                                                f"{answers.prefix}-{found.stack}"))


def _refused(answers: Answers, reason: str, domain: find.Domain | None, signer: str) -> str:
    target = answers.endpoint or answers.cloud_id
    if answers.auth == "sigv4":
        fix = ("init signed with your own credentials, which the cluster refused: your identity needs es:ESHttpGet "
               "on the domain" + (" and, with fine-grained access control, a role mapping" if domain and
                                  domain.fine_grained else "") +
               ". The stack's roles get their own grants; to write the settings without this check, run init "
               "again with --no-check")
    else:
        fix = (f"check the secret's {'username and password' if answers.auth == 'basic' else 'API key'} (the "
               "functions read the same secret), and that the cluster takes --auth " + answers.auth)
    return f"{target} refused {answers.auth}{signer}: {reason}. Nothing written. {fix}"
