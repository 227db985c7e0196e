# logship: every target sets up what it needs (a .venv from requirements-dev.txt) on a fresh machine.
.PHONY: help test test-load lint validate checkov unit integration demo bench build size deploy delete clean lock \
	index-template redrive

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# checkov pins a boto3 that moto and aws-sam-cli cannot share: it lives in a venv of its own.
CHECKOV_VENV ?= .venv-checkov
SAM := $(VENV)/bin/sam
# sam build needs a python3.13 on PATH for the python3.13 runtime; pyenv provides it here.
export PYENV_VERSION ?= 3.11.7:3.13.0:3.12.1
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
SIZE_LIMIT_MB ?= 10

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

# The lock files pin every package with its hashes (make lock writes them): a release elsewhere changes nothing here.
$(VENV)/.installed: requirements-dev.txt
	@echo "==> creating $(VENV) from requirements-dev.txt (first run only)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --progress-bar off --no-deps --require-hashes -r requirements-dev.txt
	@touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@echo "==> creating $(CHECKOV_VENV) from requirements-checkov.txt (first run only)"
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --progress-bar off --no-deps --require-hashes -r requirements-checkov.txt
	@touch $@

test: lint validate checkov  ## ruff, sam validate --lint, checkov, then every test
	$(PY) -m pytest

test-load: $(VENV)/.installed  ## hundreds of payloads from several threads into osmem-server, exactly once
	$(PY) -m pytest -m load tests/load

lint: $(VENV)/.installed  ## ruff
	$(PY) -m ruff check .

validate: $(VENV)/.installed  ## sam validate --lint on template.yaml
	$(SAM) validate --lint

checkov: $(CHECKOV_VENV)/.installed  ## checkov security checks on template.yaml (skips carry their reason in the template)
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --skip-download --compact --quiet

unit: $(VENV)/.installed  ## unit tests only (no servers)
	$(PY) -m pytest tests/unit

integration: $(VENV)/.installed  ## tests against osmem-server and moto
	$(PY) -m pytest tests/integration

demo: $(VENV)/.installed  ## the whole flow on local stand-ins, no AWS account needed
	PYTHONPATH=shared:. $(PY) scripts/demo.py

bench: $(VENV)/.installed  ## events/second, cold start and package size figures
	PYTHONPATH=shared:. $(PY) scripts/bench.py

build: $(VENV)/.installed  ## sam build (layer + functions for python3.13 on arm64)
	$(SAM) build

size: build  ## print the deployment package size; fail over SIZE_LIMIT_MB
	$(PY) scripts/package_size.py .aws-sam/build --limit-mb $(SIZE_LIMIT_MB)

ENDPOINT ?=
AUTH ?= sigv4
PREFIX ?= cwl
RETENTION_DAYS ?= 30
QUEUE_URL ?=
LAYER_RUN := PYTHONPATH=shared $(PY) -m

index-template: $(VENV)/.installed  ## install the index template + retention policy: make index-template ENDPOINT=https://...
	@test -n "$(ENDPOINT)" || { echo "set ENDPOINT=https://... (and AUTH=sigv4|basic|none)"; exit 2; }
	$(LAYER_RUN) logship.index_template --endpoint $(ENDPOINT) --auth $(AUTH) --prefix $(PREFIX) --retention-days $(RETENTION_DAYS)

FUNCTION ?=

redrive: $(VENV)/.installed  ## replay the dead-letter queue: make redrive QUEUE_URL=... FUNCTION=<stack>-ship-logs (DRY_RUN=1 lists)
	@test -n "$(QUEUE_URL)" || { echo "set QUEUE_URL to the stack's DeadLetterQueueUrl output"; exit 2; }
	$(LAYER_RUN) logship.redrive --queue-url $(QUEUE_URL) $(if $(DRY_RUN),--dry-run,$(if $(FUNCTION),--function $(FUNCTION),--endpoint $(ENDPOINT) --auth $(AUTH) --prefix $(PREFIX)))

deploy: build  ## sam deploy --guided (asks for the parameters the first time)
	$(SAM) deploy --guided

delete:  ## remove the stack
	$(SAM) delete

UV_COMPILE := $(VENV)/bin/uv pip compile --quiet --generate-hashes --no-header --annotation-style line

lock: $(VENV)/.installed  ## rewrite the lock files from the .in files (the layer's for python3.13 on arm64)
	$(UV_COMPILE) --python-version 3.13 --python-platform aarch64-manylinux_2_28 shared/requirements.in -o shared/requirements.txt
	$(UV_COMPILE) --universal --python-version 3.11 requirements-dev.in -o requirements-dev.txt
	$(UV_COMPILE) --universal --python-version 3.11 requirements-checkov.in -o requirements-checkov.txt

clean:  ## remove build output and the virtualenvs
	rm -rf .aws-sam $(VENV) $(CHECKOV_VENV) .pytest_cache .ruff_cache
