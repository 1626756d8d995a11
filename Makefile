# LEC platform. Two commands on a fresh machine: `make demo` and `make test` (see README.md).
# Every target installs what it needs first; the second run skips what is already there.

SHELL := /bin/bash
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PY := $(BIN)/python
NODE_BIN := $(CURDIR)/tools/node_modules/.bin

# ape's and py-solc-x's state live inside the project, never in ~.
export APE_DATA_FOLDER := $(CURDIR)/.ape
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
export LEC_DATA_DIR ?= $(CURDIR)/data
export LEC_RPC_URL ?= http://127.0.0.1:8545
export PATH := $(BIN):$(NODE_BIN):$(PATH)
export PYTHONDONTWRITEBYTECODE := 1
# Keycloak 26 runs on the default Java 17 (Temurin 25 is under /usr/lib/jvm too); .ci/run sets the same.
export JAVA_HOME ?= /usr/lib/jvm/java-17-openjdk-amd64
export KEYCLOAK_PORT ?= 8180

CHAIN_ID := 1981
ANVIL_STATE := $(LEC_DATA_DIR)/anvil/state.json
ANVIL_LOG := $(LEC_DATA_DIR)/anvil/anvil.log
LEC_NETWORK := ethereum:lec:node

.PHONY: setup system-deps python-deps node-deps solc compile chain chain-stop deploy seed demo demo-oracle demo-api \
        demo-dapp demo-keycloak screenshots stop test keycloak keycloak-start keycloak-stop spark-deps spark-cluster \
        spark-cluster-stop lint slither bench-gas bench-oracle bench-api bench-ingest bench-flex bench-scale clean

## setup: install Debian packages, the Python environment, the npm tools, the solc adapter and Spark's jars
setup: system-deps python-deps node-deps solc spark-deps

SYSTEM_PACKAGES := mosquitto mosquitto-clients postgresql chromium wrk maven openjdk-17-jre-headless
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

python-deps: $(VENV)/.installed
$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $@

node-deps: tools/node_modules/.installed
tools/node_modules/.installed: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# py-solc-x treats a compiler as installed when an executable solc-v<version> exists here.
solc: .solcx/solc-v0.8.28
.solcx/solc-v0.8.28: tools/bin/solc
	mkdir -p .solcx
	ln -sf ../tools/bin/solc $@

# --force: ape-solidity does not recompile a contract when only a contract it embeds (Registry embeds
# CommunityToken's creation code) changed, which would leave stale bytecode behind.
compile: setup
	ape compile --force

## chain: anvil on 127.0.0.1:8545, chain id 1981, zero base fee and gas price, state kept between runs
chain: node-deps
	@mkdir -p $(dir $(ANVIL_STATE))
	@if curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
		--data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' $(LEC_RPC_URL); then \
		echo "A node already answers at $(LEC_RPC_URL)"; \
	else \
		nohup anvil --host 127.0.0.1 --port 8545 --chain-id $(CHAIN_ID) --base-fee 0 --gas-price 0 \
			--state $(ANVIL_STATE) --state-interval 5 > $(ANVIL_LOG) 2>&1 & echo $$! > $(LEC_DATA_DIR)/anvil/pid; \
		for i in $$(seq 50); do curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
			--data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' $(LEC_RPC_URL) && break; sleep 0.2; done; \
		echo "anvil started at $(LEC_RPC_URL) (chain id $(CHAIN_ID)); state in $(ANVIL_STATE)"; \
	fi

chain-stop:
	@if [ -f $(LEC_DATA_DIR)/anvil/pid ]; then kill $$(cat $(LEC_DATA_DIR)/anvil/pid) 2>/dev/null || true; rm -f $(LEC_DATA_DIR)/anvil/pid; fi

deploy: compile chain
	ape run deploy --network $(LEC_RPC_URL)

seed: compile chain
	ape run seed --network $(LEC_RPC_URL)

# Reward model of the demo (token units per kWh, cap per period, energy bonus by profile).
DEMO_MODEL_PARAMS := {"a":100000000000000000,"b":50000000000000000,"c":50000000000000000,"max_per_period":1000000000000000000000,"bonus_consumer":1000000000000000,"bonus_prosumer":1000000000000000,"bonus_prostormer":1000000000000000}
# The demo's flexibility model (docs/proofs.md §8): 0.5 token per delivered kWh, nothing below 10 % of the dispatch.
DEMO_FLEX_PARAMS := {"rate":500000000000000000,"min_performance_bps":1000,"max_per_period":100000000000000000000}
DEMO_DAYS := 14
# The first run's start is kept, so a second `make demo` (even days later) redoes exactly the same days.
DEMO_START ?= $(shell cat $(LEC_DATA_DIR)/demo-start 2>/dev/null || date -u -d "$(DEMO_DAYS) days ago" +%F)
DEMO_MANIFEST ?= docs/examples/community-manifest.json

## demo-oracle: the demo community imported from its manifest (as a real one is: docs/onboarding.md), two weeks
## of synthetic readings for its members, each day run, notarised and claimed; a second run changes nothing
demo-oracle: seed
	@mkdir -p $(LEC_DATA_DIR) && echo $(DEMO_START) > $(LEC_DATA_DIR)/demo-start
	lec community import $(DEMO_MANIFEST)
	lec oracle simulate --members 8 --days $(DEMO_DAYS) --start $(DEMO_START)
	lec oracle register-model --name lec-default --kind self-consumption --params '$(DEMO_MODEL_PARAMS)'
	lec oracle register-model --name lec-flexibility --kind flexibility --params '$(DEMO_FLEX_PARAMS)'
	lec flex demo-event --community 1 --day $$(date -u -d "$(DEMO_START) + $$(($(DEMO_DAYS) - 1)) days" +%F)
	@for i in $$(seq 0 $$(($(DEMO_DAYS) - 1))); do \
		day=$$(date -u -d "$(DEMO_START) + $$i days" +%F); \
		lec oracle run --community 1 --period $$day --claim || exit 1; \
	done
	lec oracle cluster --community 1 --from $(DEMO_START) --to $$(date -u -d "$(DEMO_START) + $$(($(DEMO_DAYS) - 1)) days" +%F) -k 3

API_PORT ?= 8000
MAIL_PORT ?= 8025
KEYCLOAK_STATE := $(LEC_DATA_DIR)/keycloak

## demo-keycloak: the real Keycloak with the realm, a mail sink for its e-mails (in $(LEC_DATA_DIR)/mail), the
## demo users with generated passwords (in $(LEC_DATA_DIR)/dev-identity.json), the dApp's [auth] for st.login
demo-keycloak: compile keycloak
	@mkdir -p $(LEC_DATA_DIR)/mail
	@if (exec 3<>/dev/tcp/127.0.0.1/$(MAIL_PORT)) 2>/dev/null; then \
		echo "A mail server already answers on port $(MAIL_PORT)"; \
	else \
		nohup $(PY) -m aiosmtpd -n -l 127.0.0.1:$(MAIL_PORT) -c aiosmtpd.handlers.Mailbox $(LEC_DATA_DIR)/mail \
			> $(LEC_DATA_DIR)/mail.log 2>&1 & echo $$! > $(LEC_DATA_DIR)/mail.pid; \
	fi
	LEC_SMTP_PORT=$(MAIL_PORT) KEYCLOAK_STATE=$(KEYCLOAK_STATE) tools/keycloak/keycloak.sh start
	lec demo-identity --keycloak-url http://127.0.0.1:$(KEYCLOAK_PORT)/ --admin-file $(KEYCLOAK_STATE)/admin.json \
		--dapp-url http://localhost:$(DAPP_PORT)

## demo-api: the API against the demo's Keycloak (its client secret in $(KEYCLOAK_STATE)/lec-api.env);
## `lec api --dev-identity` is the explicit alternative without Java (a local stand-in issuer)
demo-api: compile demo-keycloak
	@mkdir -p $(LEC_DATA_DIR)
	@if curl -sf -o /dev/null http://127.0.0.1:$(API_PORT)/health; then \
		echo "The API already answers on port $(API_PORT)"; \
	else \
		set -a; . $(KEYCLOAK_STATE)/lec-api.env; set +a; \
		nohup lec api --host 127.0.0.1 --port $(API_PORT) > $(LEC_DATA_DIR)/api.log 2>&1 & \
		echo $$! > $(LEC_DATA_DIR)/api.pid; \
		for i in $$(seq 100); do curl -sf -o /dev/null http://127.0.0.1:$(API_PORT)/health && break; sleep 0.3; done; \
		curl -sf -o /dev/null http://127.0.0.1:$(API_PORT)/health || { echo "The API did not start:"; tail -20 $(LEC_DATA_DIR)/api.log; exit 1; }; \
	fi
	@echo "API: http://127.0.0.1:$(API_PORT)/docs (tokens from Keycloak at http://127.0.0.1:$(KEYCLOAK_PORT)/realms/lec)"
	lec flex buyer-offer --community 1 --api http://127.0.0.1:$(API_PORT)/api/v1

DAPP_PORT ?= 8501

## demo-dapp: the Streamlit dApp on the demo (sign in with Keycloak as a demo user; MetaMask for transactions)
demo-dapp: demo-api
	@if curl -sf -o /dev/null http://127.0.0.1:$(DAPP_PORT)/_stcore/health; then \
		echo "The dApp already answers on port $(DAPP_PORT)"; \
	else \
		LEC_API_URL=http://127.0.0.1:$(API_PORT)/api/v1 nohup lec dapp --port $(DAPP_PORT) \
			> $(LEC_DATA_DIR)/dapp.log 2>&1 & echo $$! > $(LEC_DATA_DIR)/dapp.pid; \
		for i in $$(seq 150); do curl -sf -o /dev/null http://127.0.0.1:$(DAPP_PORT)/_stcore/health && break; sleep 0.2; done; \
		curl -sf -o /dev/null http://127.0.0.1:$(DAPP_PORT)/_stcore/health || { echo "The dApp did not start:"; tail -20 $(LEC_DATA_DIR)/dapp.log; exit 1; }; \
	fi
	@echo "dApp: http://localhost:$(DAPP_PORT) (sign in on Keycloak's page as alice, bob (members), carla (community admin), oscar (oracle admin), tina (token admin), audrey (auditor) or paolo (platform admin); passwords in $(LEC_DATA_DIR)/dev-identity.json)"

## screenshots: every page of the dApp as each role sees it, on demo data, saved in docs/screenshots/
screenshots: compile
	LEC_SCREENSHOTS=$(CURDIR)/docs/screenshots pytest tests/dapp/test_dapp_screenshots.py -p no:cacheprovider -q

## demo: the local demo on embedded defaults
## demo-lab: the living lab's demo (a project, a closed poll with its notarised tally, messages, feedback); idempotent
demo-lab: demo-keycloak
	lec demo-lab

demo: deploy seed demo-oracle demo-keycloak demo-lab demo-api demo-dapp
	@API_PORT=$(API_PORT) DAPP_PORT=$(DAPP_PORT) ape run summary --network $(LEC_RPC_URL) 2>/dev/null

## spark-deps: the Delta Lake and PostgreSQL JDBC jars from Maven Central (pinned, SHA-256 checked), once
spark-deps: system-deps
	tools/spark/spark.sh fetch

## spark-cluster / spark-cluster-stop: a Spark standalone master (127.0.0.1:7077) and two workers on loopback
spark-cluster: python-deps spark-deps
	tools/spark/spark.sh cluster-start

spark-cluster-stop:
	tools/spark/spark.sh cluster-stop

## keycloak: fetch the pinned Keycloak from Maven Central (SHA-256 checked) and build it, once
keycloak:
	tools/keycloak/keycloak.sh fetch

## keycloak-start / keycloak-stop: Keycloak on 127.0.0.1:$(KEYCLOAK_PORT) with the realm imported
keycloak-start:
	LEC_SMTP_PORT=$(MAIL_PORT) KEYCLOAK_STATE=$(KEYCLOAK_STATE) tools/keycloak/keycloak.sh start

keycloak-stop:
	KEYCLOAK_STATE=$(KEYCLOAK_STATE) tools/keycloak/keycloak.sh stop

## stop: stop the demo's background processes (anvil and Keycloak keep their state)
stop: chain-stop keycloak-stop
	@for f in api dapp mail; do if [ -f $(LEC_DATA_DIR)/$$f.pid ]; then kill $$(cat $(LEC_DATA_DIR)/$$f.pid) 2>/dev/null || true; rm -f $(LEC_DATA_DIR)/$$f.pid; fi; done

bench-oracle: compile
	$(PY) -m benchmarks.oracle_run

bench-api: compile
	$(PY) -m benchmarks.api --backend both

bench-ingest: compile
	$(PY) -m benchmarks.ingest

bench-flex: compile
	$(PY) -m benchmarks.flex
	$(PY) -m benchmarks.flex_mqtt --gateways 10000

## bench-scale: local engine vs Spark local[2] vs the loopback cluster, 10 000 and 100 000 meters (docs/scale.md)
bench-scale: compile
	$(PY) -m benchmarks.scale --meters 10000,100000 --plot docs/scale.png

## test: every test, starting the services the tests need (PostgreSQL, Mosquitto, anvil, Keycloak, Spark, Chromium)
# The contract tests run on anvil (all of them) and on ape's default in-process provider (all but the
# stateful property tests, which py-evm makes slow).
CORE_CONTRACT_TESTS := tests/contracts/unit/registry tests/contracts/unit/notary \
	tests/contracts/unit/reward_models tests/contracts/unit/token tests/contracts/e2e/test_platform_flow.py
# The rest runs on TEST_WORKERS pytest-xdist workers, a module (the Spark tests: all of them) per worker at a time,
# in the order collected (tests/conftest.py); `make test TEST_WORKERS=0` runs them in one process.
TEST_WORKERS ?= 2
test: compile lint keycloak spark-deps
	ape test tests/contracts --network ethereum:local:foundry -p no:cacheprovider
	ape test $(CORE_CONTRACT_TESTS) --network ethereum:local:test -p no:cacheprovider -k "not invariants"
	pytest tests --ignore=tests/contracts -p no:cacheprovider --durations=30 -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

## test-deep: the stateful property tests of the contracts (token ledger, marketplace ledger, incentive round
## trips) at 10 000 steps each, on anvil; `make test` runs them briefly
.PHONY: test-deep
test-deep: compile
	LEC_INVARIANT_STEPS=10000 ape test tests/contracts --network ethereum:local:foundry -p no:cacheprovider \
		-k "invariants or round_trips"

## mutation: mutation testing of the core with cosmic-ray, one module at a time, resumable (docs/testing.md);
## `make mutation MUTATION_MODULES="integer clean"` for some; not part of `make test`
MUTATION_MODULES ?=
.PHONY: mutation
mutation: python-deps
	tests/mutation/run.sh $(MUTATION_MODULES)

## lint: ruff on the Python code, the layers of DESIGN §2 (import-linter), Slither on the contracts (no medium or high)
lint: setup slither
	ruff check lec oracle dapp scripts tests benchmarks
	lint-imports

SLITHER_FLAGS := --solc-standard-json --solc tools/bin/solc \
	--solc-remaps "@openzeppelin/contracts/=tools/node_modules/@openzeppelin/contracts/" \
	--exclude-dependencies --filter-paths node_modules
slither: setup
	slither contracts $(SLITHER_FLAGS) --exclude-low --exclude-informational --exclude-optimization --fail-medium

## bench-gas: gas of every contract operation beside a plain ERC20, written to docs/gas.md
bench-gas: compile
	$(PY) -m benchmarks.gas --out docs/gas.md

clean: stop
	rm -rf .build contracts/.cache $(LEC_DATA_DIR) deployments
