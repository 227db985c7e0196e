"""The command stays out of the Lambda layer: no handler imports it or its libraries, and the layer (which SAM
copies whole from shared/) imports and runs without them; ``python -m logship_cli`` reaches the command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
CLI_MODULES = ("logship_cli", "click", "rich")

# In a fresh interpreter, with the command's packages unimportable (as in Lambda): import every handler and
# every layer module, then report which of the command's modules got loaded.
_PROBE = """
import importlib, importlib.util, pkgutil, sys
blocked = {blocked!r}
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError(f"{{name}} is not in the Lambda layer")
sys.meta_path.insert(0, Block())
sys.path[:0] = [{shared!r}]
import logship
for module in pkgutil.walk_packages(logship.__path__, "logship."):
    importlib.import_module(module.name)
for function in {functions!r}:
    spec = importlib.util.spec_from_file_location(f"{{function}}_app", f"{root}/functions/{{function}}/app.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(sorted(name for name in sys.modules if name.split(".")[0] in blocked))
"""


def test_the_layer_and_every_handler_import_without_the_command_or_its_libraries():
    functions = sorted(path.name for path in (ROOT / "functions").iterdir() if (path / "app.py").exists())
    probe = _PROBE.format(blocked=CLI_MODULES, shared=str(ROOT / "shared"), functions=functions, root=ROOT)

    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False,
                          env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "eu-west-1"})

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert len(functions) == 4


def test_no_layer_module_names_the_command():
    modules = list((ROOT / "shared" / "logship").rglob("*.py"))
    mentions = [path.name for path in modules if "logship_cli" in path.read_text()]

    assert len(modules) > 30
    assert mentions == []


def test_python_m_logship_cli_runs_the_command_or_says_how_to_install_its_libraries():
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT / 'cli'}"}
    installed = subprocess.run([sys.executable, "-m", "logship_cli", "--help"], capture_output=True, text=True,
                               timeout=60, check=False, env=env)
    # -S: no site-packages, so the command's libraries (click, rich) cannot be found
    missing = subprocess.run([sys.executable, "-S", "-m", "logship_cli", "--help"], capture_output=True,
                             text=True, timeout=60, check=False, env=env)

    assert installed.returncode == 0, installed.stderr
    assert "Commands:" in installed.stdout
    assert "search" in installed.stdout
    assert missing.returncode == 1
    assert "the logship command's libraries are not installed here" in missing.stderr
    assert "pip install -e '.[cli]'" in missing.stderr


def test_the_layers_requirements_know_nothing_of_the_commands_libraries():
    layer = (ROOT / "shared" / "requirements.txt").read_text() + (ROOT / "shared" / "requirements.in").read_text()

    assert not any(f"\n{name}==" in layer or layer.startswith(f"{name}==") for name in ("click", "rich"))
