# bursar — the two commands that matter: `make sim` and `make test`.
SHELL := /bin/bash
NODE_MODULES_STAMP := node_modules/.package-lock.json
PY_VENV := .venv
PY_STAMP := $(PY_VENV)/.bursar-installed

.PHONY: sim cluster test test-slow test-cluster bench bench-memory install install-python build console typecheck check-boundaries demo clean soak fuzz

$(NODE_MODULES_STAMP): package.json package-lock.json
	@command -v node >/dev/null || { echo "Node.js 20+ is required (https://nodejs.org)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_MODULES_STAMP)

install: $(NODE_MODULES_STAMP)

## The Python SDK's test environment: a venv under the repo with the pinned packages (from PyPI when missing).
$(PY_STAMP): clients/python/requirements.lock clients/python/pyproject.toml
	@command -v python3 >/dev/null || { echo "Python 3.10+ is required for the Python SDK tests (https://python.org)"; exit 1; }
	@test -x $(PY_VENV)/bin/python || python3 -m venv $(PY_VENV)
	$(PY_VENV)/bin/pip install -q --disable-pip-version-check -r clients/python/requirements.lock
	$(PY_VENV)/bin/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e ./clients/python
	@touch $(PY_STAMP)

install-python: $(PY_STAMP)

build: install
	npx tsx scripts/buildEnclave.ts

## The owner console (console/ → dist/console, Vite); `make sim` and the browser tests build it when its sources change.
console: install
	npx tsx scripts/buildConsole.ts

## Start the host + simulated enclave (SQLite under ./data) and print where to go.
sim: install
	npx tsx scripts/sim.ts

## Scale-out mode: PostgreSQL (apt-installed when missing) + 3 host + simulated-enclave pairs on 8402–8404; Ctrl-C stops all.
cluster: install
	npx tsx scripts/cluster.ts

## Install and run every test (typecheck, trust-boundary check, unit, integration, adversarial, e2e; the Python SDK's pytest).
## The checks and pytest run beside vitest, their output kept in .test-checks.log / .pytest.log and printed after it:
## vitest's workers mostly wait on spawned processes (suite34: ~1.3 of 2 cores busy), so the ~40 s of tsc and the ~50 s
## of pytest (its own stack on its own port and data dir) fit in the idle core instead of adding to the wall time.
## Any of the three failing fails the target.
test: install $(PY_STAMP)
	@rm -f .pytest-results.xml .test-checks.log .pytest.log
	@{ npx tsc --noEmit -p . && npx tsc --noEmit -p console && npx tsx scripts/checkBoundaries.ts; } > .test-checks.log 2>&1 & checks=$$!; \
	  { $(PY_VENV)/bin/python -m pytest -q -p no:cacheprovider --junitxml=.pytest-results.xml clients/python/tests; } > .pytest.log 2>&1 & py=$$!; \
	  npx vitest run --reporter=default --reporter=json --outputFile=.vitest-results.json; status=$$?; \
	  wait $$checks; checkstatus=$$?; echo "== typecheck (tsc -p ., tsc -p console) and checkBoundaries: exit $$checkstatus"; cat .test-checks.log; \
	  wait $$py; pystatus=$$?; echo "== pytest clients/python/tests: exit $$pystatus"; cat .pytest.log; \
	  node scripts/testSummary.mjs .vitest-results.json .pytest-results.xml || true; \
	  for s in $$checkstatus $$status $$pystatus; do if [ $$s -ne 0 ]; then exit $$s; fi; done

## The long variants of tests `make test` runs short (suite39): the audit verifier's fast-path fuzz on 2,000 random
## mutated exports (200 in `make test`); verifyAuditJsonl's tampered exports with every number form at every edited
## entry (suite40: one entry of three per edit in `make test`).
test-slow: install
	BURSAR_FUZZ_CASES=2000 BURSAR_TEST_SLOW=1 npx vitest run test/fuzz/auditVerifyFastVsReference.test.ts shared/audit/verifyAuditJsonl.test.ts

## Scale-out tests only, longer (PostgreSQL started by scripts/pg/ensurePostgres.ts): stores, cluster cap, 5 failovers, host restart, stale holder, replay after failover.
test-cluster: install
	BURSAR_CLUSTER_FAILOVERS=5 npx vitest run host/storage test/cluster test/adversarial/staleLeaseHolder.test.ts test/adversarial/replayAfterFailover.test.ts test/adversarial/staleWalletLeaseHolder.test.ts

bench: install $(PY_STAMP)
	npx tsx scripts/bench.ts

## Issue 18's memory run (not in `make test`, ~10-20 min): 1,000,000 payments through one simulated enclave process over
## 20 wallets; enclave RSS and heap after GC at intervals, sealed bytes per wallet; JSON in bench/results/.
bench-memory: install build
	npx tsx scripts/bench/memoryRun.ts 1000000 20 64 1

demo: install
	node bin/bursar.mjs demo

typecheck: install
	npx tsc --noEmit -p .
	npx tsc --noEmit -p console

clean:
	rm -rf dist data .venv .pytest-results.xml

## Crash soak: SIGKILL enclave/host at random points under steady payments (SOAK_CYCLES, SEED, SOAK_TARGETS).
soak: install build
	npx tsx scripts/soak.ts

## Fuzz parsers, schemas and a live enclave (SEED, COUNT; default 1,000,000 inputs).
fuzz: install build
	npx tsx scripts/fuzz.ts
