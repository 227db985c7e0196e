"""``logship init``: the few answers a deploy needs, the rest found with your credentials, written to samconfig.toml."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from logship.core.config import AUTH_MODES
from logship_cli.context import Aws, SamDefaults
from logship_cli.errors import FAILED, USAGE, CliError
from logship_cli.render import console, line, table

if TYPE_CHECKING:
    from rich.console import Console

    from logship_cli.init.plan import Plan

HELP = """Prepare a deploy: ask where the cluster is and how to reach it (and, for a VPC-only domain, which
network), find the rest with your AWS credentials, write the template's parameters to samconfig.toml under a
config environment, and print the sam deploy command (or run it, with --deploy).

It finds a domain's ARN, engine, version, VPC (its subnets and security groups are proposed and checked) and
fine-grained access control; a Serverless collection's ARN and type; an Elastic Cloud id's endpoint; the secret's
KMS key; whether the cluster answers with the chosen authentication and what it is; whether CloudTrail logs
management events in the region (else it proposes CreateCloudTrail=true, or SubscriptionMode=account-policy);
and whether an account subscription filter policy or another logship stack is there. The file's other
environments and keys are kept. Nothing is written when the cluster refuses the credentials.

\b
Examples:
  logship init                                   # asks what it cannot find out
  logship init --endpoint https://search-logs-abc123.eu-west-1.es.amazonaws.com --yes
  logship init --endpoint logs --config-env prod --stack logship-prod --region eu-west-1 --yes --deploy
  logship init --cloud-id 'logs:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyRhYmMxMjMkZGVm' \\
      --secret-arn arn:aws:secretsmanager:eu-west-1:123456789012:secret:logship/es-AbCdEf --yes
"""


@click.command("init", help=HELP)
@click.option("--endpoint", metavar="URL|NAME", help="Where the cluster is: the https:// endpoint of a domain, "
              "Serverless collection or cluster, or an OpenSearch Service domain's name.")
@click.option("--cloud-id", metavar="ID", help="Instead of --endpoint, an Elastic Cloud deployment's Cloud ID "
              "(<name>:<base64>, on the deployment's page).")
@click.option("--auth", type=click.Choice(AUTH_MODES), help="How the functions authenticate: sigv4 (their IAM "
              "roles; the default for AWS domains and collections), basic, apikey (the default for Elastic Cloud) "
              "or none.")
@click.option("--secret-arn", metavar="ARN|NAME", help='For basic: the Secrets Manager secret holding {"username", '
              '"password"}; for apikey: {"id", "api_key"} or {"encoded"}.')
@click.option("--secret-kms-key-arn", metavar="ARN", help="The customer managed KMS key the secret is encrypted "
              "with, when init cannot tell it (it asks Secrets Manager and KMS).")
@click.option("--domain-arn", metavar="ARN", help="For sigv4 on a domain init cannot describe (another account's): "
              "its ARN.")
@click.option("--subnets", metavar="IDS", help="Comma-separated subnets ship-logs and install-index-template run in "
              "(default: a VPC-only domain's own); '' for none.")
@click.option("--security-groups", metavar="IDS", help="Comma-separated security groups of those functions "
              "(default: the domain's own).")
@click.option("--prefix", metavar="PREFIX", help="IndexPrefix: documents go to <prefix>-YYYY.MM.DD (default: the "
              "config environment's, else cwl).")
@click.option("--subscription-mode", type=click.Choice(("per-group", "account-policy")), help="per-group (a filter "
              "on each group, new ones through CloudTrail; the default) or account-policy (one account policy "
              "delivers every group).")
@click.option("--create-trail/--no-create-trail", default=None, help="Whether the stack creates a trail of write "
              "management events (default: only when none logs them in the region).")
@click.option("--install-index-template/--no-install-index-template", default=None, help="Whether the deploy "
              "installs the index template (default: yes, except the first deploy on a domain with fine-grained "
              "access control or on a collection, whose roles must be let in first).")
@click.option("--check/--no-check", default=True, help="Ask the cluster whether it answers with this "
              "authentication, and what it is (default: yes; --no-check when only the functions can reach it).")
@click.option("--stack", metavar="NAME", help="The stack's name (default: the config environment's stack_name, "
              "else logship).")
@click.option("--region", metavar="REGION", help="The stack's region (default: the config environment's region, "
              "then AWS_REGION, then your profile's).")
@click.option("--config-env", default="default", show_default=True, metavar="ENV",
              help="The samconfig.toml environment written: [ENV.deploy.parameters] (one per stage).")
@click.option("--config-file", default="samconfig.toml", show_default=True, type=click.Path(dir_okay=False),
              help="The samconfig file.")
@click.option("--template", "template_file", default="template.yaml", show_default=True,
              type=click.Path(dir_okay=False), help="logship's template, whose parameters are checked.")
@click.option("--yes", "-y", is_flag=True, help="Ask nothing: take the defaults and what was found; a question "
              "still open is an error naming its flag.")
@click.option("--dry-run", is_flag=True, help="Show what init finds and chooses; write nothing.")
@click.option("--deploy", is_flag=True, help="Then run sam build and sam deploy --config-env ENV (with --yes, "
              "without confirming the change set).")
def init(endpoint: str | None, cloud_id: str | None, auth: str | None, secret_arn: str | None,
         secret_kms_key_arn: str | None, domain_arn: str | None, subnets: str | None, security_groups: str | None,
         prefix: str | None, subscription_mode: str | None, create_trail: bool | None,
         install_index_template: bool | None, check: bool, stack: str | None, region: str | None, config_env: str,
         config_file: str, template_file: str, yes: bool, dry_run: bool, deploy: bool) -> None:
    from logship_cli.init import samconfig
    from logship_cli.init.interview import Given, Interview
    from logship_cli.init.plan import CLUSTER_KEYS, decide
    from logship_cli.init.template import parameters, refusals

    if endpoint and cloud_id:
        raise CliError("give --endpoint or --cloud-id, not both", USAGE)
    path, out = Path(config_file), console()
    known = parameters(Path(template_file))
    earlier = samconfig.read(config_env, path)
    name = stack or earlier.stack_name or "logship"
    aws = Aws(name, region, SamDefaults(name, earlier.region or None))
    line(out, f"logship init: stack {name} in {aws.region}, samconfig {path} [{config_env}]")
    given = Given(endpoint, cloud_id, auth, secret_arn, secret_kms_key_arn, domain_arn, subnets, security_groups,
                  prefix, subscription_mode, create_trail, install_index_template, check)
    answers, facts = Interview(aws, out, yes, earlier.overrides).run(given, config_env)
    plan = decide(answers, facts)
    refused = refusals(plan.parameters, known)
    if refused:
        raise CliError("the template would refuse: " + "; ".join(refused) + ". Nothing written", USAGE)
    table(out, escape(f"parameters for stack {name} in {aws.region} ({path} [{config_env}])"),
          ("parameter", "value", "why"), [(c.parameter, c.value, c.why) for c in plan.choices])
    _items(out, "found", plan.notes)
    if dry_run:
        _items(out, "before you deploy", plan.before)
        line(out, "--dry-run: nothing written")
        return
    chosen = plan.parameters
    existing = facts.own_stack is not None or not isinstance(facts.stacks, list)
    cleared = {key for key in CLUSTER_KEYS if key not in chosen and (existing or key in earlier.overrides)}
    samconfig.write(config_env, name, aws.region, chosen, cleared, path)
    line(out, f"wrote {path} [{config_env}.deploy.parameters]")
    _items(out, "before you deploy", plan.before)
    _items(out, "after the first deploy", plan.after)
    _next(out, plan, config_env, path, yes, deploy)


def _items(out: Console, title: str, items: list[str]) -> None:
    if items:
        line(out, f"{title}:")
        for item in items:
            line(out, f"  - {item}")


def _next(out: Console, plan: Plan, env: str, path: Path, yes: bool, deploy: bool) -> None:
    extra = [] if path == Path("samconfig.toml") else ["--config-file", str(path)]
    command = ["sam", "deploy", "--config-env", env, *extra]
    if not deploy:
        line(out, f"next: make build && {' '.join(command)}")
        return
    if plan.before:
        raise CliError("not deploying: fix what is listed under 'before you deploy' first, then run "
                       f"{' '.join(command)}", FAILED)
    sam = shutil.which("sam")
    if sam is None:
        raise CliError("sam (AWS SAM CLI) is not on PATH: install it (or run make install) and run "
                       f"{' '.join(command)}", FAILED)
    for args in (["build", "--config-env", env, *extra], [*command[1:], *(["--no-confirm-changeset"] if yes else [])]):
        line(out, f"==> sam {' '.join(args)}")
        done = subprocess.run([sam, *args], check=False)  # its own progress, on this terminal
        if done.returncode:
            raise CliError(f"sam {args[0]} failed (exit {done.returncode}): its output above says why; fix it and "
                           f"run {' '.join(command)}", FAILED)
