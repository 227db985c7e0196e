"""template.yaml read as CloudFormation would, for one stack name and set of parameters.

A small evaluator resolves the intrinsic functions the template uses (Ref, Fn::Sub, Fn::Join, Fn::GetAtt,
Fn::If and the conditions), so tests can check the template against the code, and create in moto what
CloudFormation would create for stacks of any name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cfnlint.decode.cfn_yaml import load as load_template

TEMPLATE = load_template(str(Path(__file__).parents[1] / "template.yaml"))
RESOURCES = TEMPLATE["Resources"]
REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's account
NO_VALUE = object()
PACKAGE = ("logship-artifacts", "package.zip")  # where `sam deploy` uploads the code (bucket, key)


class Stack:
    """The template's values for one stack: ``Stack("prod", FilterName="x").environment("ShipLogsFunction")``."""

    def __init__(self, name: str = "logship", template: dict[str, Any] | None = None, **parameters: str) -> None:
        """``template``: another form of the template (SAM's transform of it, say); template.yaml by default."""
        self.template = template or TEMPLATE
        self.resources = self.template["Resources"]
        defaults = {key: str(spec.get("Default", "")) for key, spec in self.template["Parameters"].items()}
        self.name = name
        self.parameters = defaults | parameters
        self.pseudo = {"AWS::StackName": name, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                       "AWS::Partition": "aws"}

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            if self.template["Parameters"][name]["Type"] == "CommaDelimitedList":
                return self.parameters[name].split(",")
            return self.parameters[name]
        resource = self.resources[name]
        if resource["Type"] == "AWS::SQS::Queue":  # Ref is the queue URL; its name is generated from the logical id
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{self.name}-{name}"
        properties = resource["Properties"]
        if resource["Type"] == "AWS::Serverless::LayerVersion":  # Ref is the version's ARN
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{self.value(properties['LayerName'])}:1"
        if resource["Type"] == "AWS::Logs::AccountPolicy":  # Ref: a string naming the policy (its name, here)
            return self.value(properties["PolicyName"])
        named = properties.get("LogGroupName") or properties.get("FunctionName")
        return self.value(named) if named else f"{self.name}-{name}-1a2b3c"  # a made-up physical id

    def arn(self, name: str, attribute: str = "Arn") -> str:
        if self.resources[name]["Type"] == "AWS::SQS::Queue":
            assert attribute in ("Arn", "QueueName")
            queue = f"{self.name}-{name}"
            return queue if attribute == "QueueName" else f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}"
        kind = self.resources[name]["Type"]
        if kind.startswith("Custom::") or attribute != "Arn":  # what the resource's function or AWS returns
            return f"{self.name}-{name}-{attribute}"
        if kind == "AWS::Kinesis::Stream":
            return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{self.value(self.resources[name]['Properties']['Name'])}"
        if kind == "AWS::Logs::Destination":
            return f"arn:aws:logs:{REGION}:{ACCOUNT}:destination:{self.value(self.resources[name]['Properties']['DestinationName'])}"
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{self.ref(name)}"
        if kind == "AWS::IAM::Role":  # CloudFormation names it <stack>-<logical id>-<suffix>
            return f"arn:aws:iam::{ACCOUNT}:role/{self.name}-{name}"
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.ref(name)}"

    def condition(self, node: Any) -> bool:
        if isinstance(node, str):
            return self.condition(self.template["Conditions"][node])
        [(function, args)] = node.items()
        if function == "Fn::Equals":
            return str(self.value(args[0])) == str(self.value(args[1]))
        if function == "Fn::Not":
            return not self.condition(args[0])
        if function == "Fn::And":
            return all(self.condition(arg) for arg in args)
        if function == "Fn::Or":
            return any(self.condition(arg) for arg in args)
        assert function == "Condition"
        return self.condition(args)

    def sub(self, text: str, variables: dict[str, Any] | None = None) -> str:
        def one(match: re.Match[str]) -> str:
            name = match[1]
            if variables and name in variables:
                return str(variables[name])
            return self.arn(*name.split(".")) if "." in name else str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in map(self.value, node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            [(function, args)] = node.items()
            if function == "Ref":
                return self.ref(args)
            if function == "Fn::GetAtt":
                return self.arn(*(args.split(".") if isinstance(args, str) else args))
            if function == "Fn::Sub":
                if isinstance(args, list):
                    return self.sub(args[0], {k: self.value(v) for k, v in args[1].items()})
                return self.sub(args)
            if function in ("Fn::Split", "Fn::Join"):
                return self.value(args[1]).split(args[0]) if function == "Fn::Split" else args[0].join(
                    self.value(args[1]))
            if function == "Fn::If":
                return self.value(args[1] if self.condition(args[0]) else args[2])
        return {key: v for key, v in ((k, self.value(v)) for k, v in node.items()) if v is not NO_VALUE}

    def refused(self) -> list[str]:
        """What CloudFormation refuses before it creates anything ("Parameters" and "Rules" in its user guide): a
        value outside its parameter's AllowedValues, AllowedPattern or MinValue/MaxValue, and each failing rule
        assertion (its AssertDescription)."""
        found = []
        for name, spec in self.template.get("Parameters", {}).items():
            value = self.parameters[name]
            if "AllowedValues" in spec and value not in map(str, spec["AllowedValues"]):
                found.append(f"Parameter '{name}' must be one of AllowedValues")
            if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
                found.append(f"Parameter '{name}' must match pattern {spec['AllowedPattern']}")
            if spec["Type"] == "Number" and not float(spec.get("MinValue", "-inf")) <= float(value) <= float(
                    spec.get("MaxValue", "inf")):
                found.append(f"Parameter '{name}' must be a number from {spec.get('MinValue')} to "
                             f"{spec.get('MaxValue')}")
        for rule in self.template.get("Rules", {}).values():
            if "RuleCondition" in rule and not self._rule(rule["RuleCondition"]):
                continue
            found += [a["AssertDescription"] for a in rule["Assertions"] if not self._rule(a["Assert"])]
        return found

    def _rule(self, node: Any) -> Any:
        """CloudFormation's rule functions, over the parameters' values."""
        if not isinstance(node, dict):
            return node
        [(function, args)] = node.items()
        if function == "Ref":
            return self.ref(args)
        values = [self._rule(arg) for arg in (args if isinstance(args, list) else [args])]
        return {"Fn::Equals": lambda: str(values[0]) == str(values[1]), "Fn::Not": lambda: not values[0],
                "Fn::And": lambda: all(values), "Fn::Or": lambda: any(values),
                "Fn::EachMemberEquals": lambda: all(member == values[1] for member in values[0])}[function]()

    def exists(self, logical: str) -> bool:
        """Whether the stack creates the resource (its Condition, if it has one, holds)."""
        condition = self.resources[logical].get("Condition")
        return condition is None or self.condition(condition)

    def environment(self, function: str) -> dict[str, str]:
        return {k: str(v) for k, v in self.value(self.resources[function]["Properties"]["Environment"]["Variables"]).items()}

    def log_groups(self) -> dict[str, dict[str, str]]:
        """Every log group the stack creates: ``{name: tags}``."""
        return {self.ref(logical): {tag["Key"]: tag["Value"] for tag in self.value(r["Properties"].get("Tags", []))}
                for logical, r in self.resources.items() if r["Type"] == "AWS::Logs::LogGroup" and self.exists(logical)}

    def functions(self) -> dict[str, dict[str, str]]:
        """Every function the stack creates: ``{name: tags}`` (the Globals' tags and the function's own)."""
        shared = self.value(self.template["Globals"]["Function"].get("Tags", {}))
        return {self.ref(logical): shared | self.value(r["Properties"].get("Tags", {}))
                for logical, r in self.resources.items() if r["Type"] == "AWS::Serverless::Function" and self.exists(logical)}


def transformed(parameters: dict[str, str], package: tuple[str, str] = PACKAGE) -> dict[str, Any]:
    """The template after AWS's SAM transform (samtranslator, as CloudFormation runs it) for these parameters, its
    code at ``package`` (S3 bucket and key, where `sam deploy` uploaded it)."""
    import json

    from samtranslator.translator.transform import transform

    template = json.loads(json.dumps(TEMPLATE))
    for resource in template["Resources"].values():  # sam build's job; the transform wants S3 locations
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = "s3://{}/{}".format(*package)

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    return transform(template, parameters, NoManagedPolicies())
