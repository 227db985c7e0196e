"""samconfig.toml read and written as SAM CLI reads it (its own parser checks every value), and template.yaml's
parameters checked as CloudFormation checks them: what logship init writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomlkit
from samcli.cli.types import CfnParameterOverridesType

from logship_cli.errors import CliError
from logship_cli.init import samconfig
from logship_cli.init.template import parameters, refusals

ROOT = Path(__file__).parents[2]


def sam_reads(text: str) -> dict[str, str]:
    return CfnParameterOverridesType().convert(text, None, None)


@pytest.mark.parametrize("value", ["https://search-x.eu-west-1.es.amazonaws.com", "subnet-a,subnet-b", "with space",
                                   'say "hi"', "", "a=b", "o'clock"])
def test_a_value_written_is_the_value_sam_reads(value):
    assert sam_reads(f"A={samconfig.quote(value)} B=\"x\"") == {"A": value, "B": "x"}


def test_a_value_sam_could_not_read_back_is_refused():
    with pytest.raises(CliError, match="backslash"):
        samconfig.quote("trailing\\")


def test_pairs_init_does_not_set_are_carried_over_as_written(tmp_path):
    text = 'Keep=\'single quoted\' Plain=abc OpenSearchAuth="none" Escaped="a \\"b\\""'
    previous = samconfig.Environment("default", raw=samconfig.parse_overrides(text, tmp_path, "default"))

    merged = samconfig.overrides_text(previous, {"OpenSearchAuth": "sigv4", "New": "n"}, {"ElasticCloudId"})

    assert merged == ('Keep=\'single quoted\' Plain=abc OpenSearchAuth="sigv4" Escaped="a \\"b\\"" '
                      'ElasticCloudId="" New="n"')
    assert sam_reads(merged) == {"Keep": "single quoted", "Plain": "abc", "OpenSearchAuth": "sigv4",
                                 "Escaped": 'a "b"', "ElasticCloudId": "", "New": "n"}


def test_overrides_written_as_a_list_are_read_too(tmp_path):
    (tmp_path / "samconfig.toml").write_text('version = 0.1\n[dev.deploy.parameters]\nparameter_overrides = '
                                             '["IndexPrefix=dev", "RedactBuiltins=all"]\n')

    env = samconfig.read("dev", tmp_path / "samconfig.toml")

    assert env.overrides == {"IndexPrefix": "dev", "RedactBuiltins": "all"}


def test_overrides_in_another_form_are_refused_not_lost(tmp_path):
    with pytest.raises(CliError, match="not in the Key=\"value\" form"):
        samconfig.parse_overrides("ParameterKey=A,ParameterValue=b extra", tmp_path, "default")


def test_a_new_file_gets_samconfigs_version_and_the_environment(tmp_path):
    path = tmp_path / "samconfig.toml"

    env = samconfig.write("prod", "logship-prod", "eu-west-1", {"IndexPrefix": "prod"}, set(), path)

    document = tomlkit.parse(path.read_text()).unwrap()
    assert document["version"] == 0.1
    assert "[prod.deploy.parameters]" in path.read_text()
    assert document["prod"]["deploy"]["parameters"] == {
        "stack_name": "logship-prod", "region": "eu-west-1", "capabilities": samconfig.CAPABILITIES,
        "confirm_changeset": True, "resolve_s3": True, "parameter_overrides": 'IndexPrefix="prod"'}
    assert (env.stack_name, env.region, env.overrides) == ("logship-prod", "eu-west-1", {"IndexPrefix": "prod"})


def test_the_repositorys_samconfig_reads_as_the_default_environment():
    env = samconfig.read("default", ROOT / "samconfig.toml")

    assert env.stack_name == "logship"
    assert env.deploy["resolve_s3"] is True


def test_the_template_refuses_what_cloudformation_would():
    known = parameters(ROOT / "template.yaml")

    assert refusals({"OpenSearchAuth": "sigv4", "IndexPrefix": "cwl"}, known) == []
    assert refusals({"IndexPrefix": "logs", "OpenSearchAuth": "iam", "Nope": "1", "BackfillHours": "999"}, known) == [
        f"IndexPrefix='logs' is refused by the template: {known['IndexPrefix'].constraint}",
        "OpenSearchAuth='iam' is not one of sigv4, basic, apikey, none",
        "Nope is not a parameter of template.yaml (is it older than this command?)",
        "BackfillHours=999 is above the template's MaxValue 336"]
