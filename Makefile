# logship: every target sets up what it needs (a .venv from requirements-dev.txt) on a fresh machine.
.PHONY: help install test test-load lint validate checkov unit integration demo bench build size doctor deploy publish \
	delete clean \
	lock dashboards index-template redrive engine-types

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
# The layer and functions, unzipped (issue 11: at most 4 MB).
SIZE_LIMIT_MB ?= 4

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

# The lock files pin every package with its hashes (make lock writes them): a release elsewhere changes nothing here.
# Then logship itself, editable (the layer and the command, no further download): .venv/bin/logship.
$(VENV)/.installed: requirements-dev.txt pyproject.toml
	@echo "==> creating $(VENV) from requirements-dev.txt (first run only)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --progress-bar off --no-deps --require-hashes -r requirements-dev.txt
	$(PY) -m pip install --quiet --progress-bar off --no-deps --no-build-isolation -e .
	@touch $@

install: $(VENV)/.installed  ## the logship command at .venv/bin/logship (try: .venv/bin/logship --help)
	@$(LOGSHIP) --version

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@echo "==> creating $(CHECKOV_VENV) from requirements-checkov.txt (first run only)"
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --progress-bar off --no-deps --require-hashes -r requirements-checkov.txt
	@touch $@

# The engines' API definitions (their official clients' TypeScript types) and tsc, locked with their hashes:
# tests/unit/test_engine_bodies.py checks every body logship sends against them. Needs Node.js and npm.
ENGINE_TYPES := tests/engine_types
$(ENGINE_TYPES)/node_modules/.package-lock.json: $(ENGINE_TYPES)/package-lock.json
	@echo "==> installing the engines' client types into $(ENGINE_TYPES)/node_modules (first run only)"
	npm ci --prefix $(ENGINE_TYPES) --ignore-scripts --no-audit --no-fund --loglevel=error

engine-types: $(ENGINE_TYPES)/node_modules/.package-lock.json  ## the engines' API types the tests check bodies against (npm ci)

test: lint validate checkov engine-types  ## ruff, sam validate --lint, checkov, then every test
	$(PY) -m pytest

test-deployed: $(VENV)/.installed  ## the end-to-end test against a deployed stack: make test-deployed STACK=name [REGION=r]
	@test -n "$(STACK)" || { echo "usage: make test-deployed STACK=<deployed stack name> [REGION=<region>]"; exit 2; }
	$(PY) -m pytest tests/integration/test_end_to_end.py -k deployed --deployed-stack "$(STACK)" \
		--deployed-region "$(REGION)" -p no:randomly

test-load: $(VENV)/.installed  ## hundreds of payloads from several threads into osmem-server, exactly once
	$(PY) -m pytest -m load tests/load

lint: $(VENV)/.installed  ## ruff
	$(PY) -m ruff check .

validate: $(VENV)/.installed  ## sam validate --lint on template.yaml
	$(SAM) validate --lint

checkov: $(CHECKOV_VENV)/.installed  ## checkov security checks on template.yaml (skips carry their reason in the template)
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --skip-download --compact --quiet

unit: $(VENV)/.installed engine-types  ## unit tests only (no servers)
	$(PY) -m pytest tests/unit

integration: $(VENV)/.installed  ## tests against osmem-server and moto
	$(PY) -m pytest tests/integration

demo: $(VENV)/.installed  ## the whole flow on local stand-ins, no AWS account needed (KEEP=1: keep the cluster)
	PYTHONPATH=shared:cli:. $(PY) scripts/demo.py $(if $(KEEP),--keep)

bench: $(VENV)/.installed  ## events/second, cold start and package size figures
	PYTHONPATH=shared:. $(PY) scripts/bench.py

build: $(VENV)/.installed  ## sam build (layer + functions for python3.13 on arm64)
	$(SAM) build

size: build  ## print the deployment package size; fail over SIZE_LIMIT_MB
	$(PY) scripts/package_size.py .aws-sam/build --limit-mb $(SIZE_LIMIT_MB)

# The operator's targets call the logship command (`.venv/bin/logship --help`); every variable is optional:
# without ENDPOINT (or QUEUE_URL) the command reads the stack named in samconfig.toml (or STACK=).
LOGSHIP := $(VENV)/bin/logship
STACK ?=
ENDPOINT ?=
AUTH ?=
SECRET_ARN ?=
PREFIX ?=
RETENTION_DAYS ?=
QUEUE_URL ?=
FUNCTION ?=
opt = $(if $(2),$(1) $(2))
STACK_OPTS = $(call opt,--stack,$(STACK))
CLUSTER_OPTS = $(call opt,--endpoint,$(ENDPOINT)) $(call opt,--auth,$(AUTH)) $(call opt,--secret-arn,$(SECRET_ARN)) \
	$(call opt,--prefix,$(PREFIX))

index-template: $(VENV)/.installed  ## the index template + retention policy: make index-template [ENDPOINT=https://... AUTH=basic SECRET_ARN=...]
	$(LOGSHIP) setup-index $(STACK_OPTS) $(CLUSTER_OPTS) $(call opt,--retention-days,$(RETENTION_DAYS))

redrive: $(VENV)/.installed  ## replay the dead-letter queue: make redrive [DRY_RUN=1] [QUEUE_URL=... FUNCTION=<stack>-ship-logs]
	$(LOGSHIP) redrive $(STACK_OPTS) $(call opt,--queue-url,$(QUEUE_URL)) $(if $(DRY_RUN),--dry-run) \
		$(call opt,--function,$(FUNCTION)) $(CLUSTER_OPTS)

dashboards:  ## rewrite the Dashboards/Kibana NDJSON from their definition (cli/logship_cli/dashboards)
	PYTHONPATH=shared:cli $(PY) -m logship_cli.dashboards

# A deploy takes its parameters from the config environment `logship init` wrote (one per stage: CONFIG_ENV=prod);
# GUIDED=1 asks for every parameter instead (sam deploy --guided), and saves the answers there.
CONFIG_ENV ?= default

doctor: $(VENV)/.installed  ## check what a deploy needs, before or after it: make doctor [CONFIG_ENV=prod]
	$(LOGSHIP) doctor --config-env $(CONFIG_ENV) $(STACK_OPTS)

deploy: build  ## sam deploy of logship init's config environment: make deploy [CONFIG_ENV=prod] [GUIDED=1]
	@$(if $(GUIDED),true,$(PY) -c "import sys; from logship_cli.init.samconfig import read; sys.exit(0 if \
		read('$(CONFIG_ENV)').overrides else 'samconfig.toml has no parameters in [$(CONFIG_ENV).deploy.parameters]: \
		run .venv/bin/logship init --config-env $(CONFIG_ENV) first (or make deploy GUIDED=1)')")
	$(SAM) deploy --config-env $(CONFIG_ENV) $(if $(GUIDED),--guided)

publish: build  ## package and publish to the Serverless Application Repository: make publish BUCKET=<S3 bucket> [REGION=r]
	@test -n "$(BUCKET)" || { echo "usage: make publish BUCKET=<an S3 bucket in the region, readable by serverlessrepo.amazonaws.com> [REGION=<region>]"; exit 2; }
	$(SAM) package --s3-bucket "$(BUCKET)" --output-template-file .aws-sam/packaged.yaml $(if $(REGION),--region $(REGION))
	$(SAM) publish --template .aws-sam/packaged.yaml $(if $(REGION),--region $(REGION))

delete:  ## remove the stack
	$(SAM) delete

UV_COMPILE := $(VENV)/bin/uv pip compile --quiet --generate-hashes --no-header --annotation-style line

lock: $(VENV)/.installed  ## rewrite the lock files from the .in files (the layer's for python3.13 on arm64)
	$(UV_COMPILE) --python-version 3.13 --python-platform aarch64-manylinux_2_28 shared/requirements.in -o shared/requirements.txt
	$(UV_COMPILE) --universal --python-version 3.11 requirements-dev.in -o requirements-dev.txt
	$(UV_COMPILE) --universal --python-version 3.11 requirements-checkov.in -o requirements-checkov.txt

clean:  ## remove build output and the virtualenvs
	rm -rf .aws-sam $(VENV) $(CHECKOV_VENV) .pytest_cache .ruff_cache $(ENGINE_TYPES)/node_modules
