"""``logship doctor``: every prerequisite of a deploy it can check, before it (samconfig.toml) or after (the stack)."""

from __future__ import annotations

from pathlib import Path

import click

from logship_cli.context import Aws, SamDefaults
from logship_cli.errors import FAILED, CliError
from logship_cli.render import console, line

HELP = """Check what a deploy needs, before it or after it, and say for each check ok, warn or fail, with
what to do next. Exit 1 when a check fails.

Before the deploy it reads the config environment logship init wrote (samconfig.toml [ENV]); once the
stack exists, the stack (its parameters, outputs and functions' settings). It checks, with your AWS
credentials: the parameters against the template; the domain or collection the endpoint names and the
ARN the roles may use; the secret and its KMS key; whether the functions can reach the cluster from where
they run, as far as the network's configuration tells (no connection is made from their subnets): their
subnets' route to the domain, the security groups' HTTPS rules, a NAT gateway or the S3, Secrets Manager
and SQS endpoints; CloudTrail; the account's subscription filter policy; the region's other logship
stacks; and Lambda's concurrency and Kinesis's shards, as AWS answers them.

It also asks the cluster itself, from this machine, with the stack's authentication (with sigv4 it signs
with your credentials, not the stack's roles): whether it answers, the index template, the retention
policy (ISM or ILM) and, with fine-grained access control, the roles' mappings. A VPC-only domain does
not answer outside its VPC: then the installer's last report stands in. Lines marked [from this
machine] were asked from here.

\b
Examples:
  logship doctor                                   # samconfig.toml [default], or its deployed stack
  logship doctor --config-env prod
  logship doctor --config-env prod --before-deploy # a changed config, before updating the stack
  logship doctor --stack logship --region eu-west-1 --no-cluster
"""


@click.command("doctor", help=HELP)
@click.option("--config-env", default="default", show_default=True, metavar="ENV",
              help="The samconfig.toml environment: [ENV.deploy.parameters], as logship init writes it.")
@click.option("--config-file", default="samconfig.toml", show_default=True, type=click.Path(dir_okay=False),
              help="The samconfig file.")
@click.option("--template", "template_file", default="template.yaml", show_default=True,
              type=click.Path(dir_okay=False), help="logship's template: its parameters' defaults and constraints.")
@click.option("--stack", metavar="NAME", help="The stack (default: the config environment's stack_name, else "
              "logship).")
@click.option("--region", metavar="REGION", help="Its region (default: the config environment's region, then "
              "AWS_REGION, then your profile's).")
@click.option("--before-deploy", is_flag=True, help="Check the config environment's parameters even though the stack "
              "is deployed (before an update; parameters it does not give keep the stack's values).")
@click.option("--cluster/--no-cluster", "ask_cluster", default=True, help="Ask the cluster itself from this machine "
              "(default: yes).")
def doctor(config_env: str, config_file: str, template_file: str, stack: str | None, region: str | None,
           before_deploy: bool, ask_cluster: bool) -> None:
    from logship_cli.doctor import account, cluster, network
    from logship_cli.doctor.run import Run
    from logship_cli.doctor.setup import read
    from logship_cli.init import samconfig

    path = Path(config_file)
    earlier = samconfig.read(config_env, path)
    name = stack or earlier.stack_name or "logship"
    aws = Aws(name, region, SamDefaults(name, earlier.region or None))
    out = console()
    setup = read(aws, config_env, path, Path(template_file), planned=before_deploy)
    line(out, f"logship doctor: {setup.described}", "bold")
    line(out, "AWS's answers are read with your credentials; lines marked [from this machine] asked the cluster from "
              "here, not from where the functions run")
    run = Run(aws, setup, ask_cluster)
    for check in (account.stack, cluster.identify, cluster.secret, cluster.answers, network.check, cluster.pipeline,
                  cluster.template, cluster.retention, cluster.access, account.cloudtrail, account.account_policy,
                  account.other_stacks, account.concurrency, account.shards, account.unreadable):
        check(run)
    run.report.show(out)
    failed = run.report.failed
    if failed:
        raise CliError(f"{len(failed)} check(s) failed: " + "; ".join(c.name for c in failed) + ". Fix them as each "
                       "says, then run logship doctor again", FAILED)
