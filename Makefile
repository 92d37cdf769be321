# bursar — the two commands that matter: `make sim` and `make test`.
SHELL := /bin/bash
NODE_MODULES_STAMP := node_modules/.package-lock.json

.PHONY: sim test bench install build typecheck check-boundaries demo clean soak fuzz

$(NODE_MODULES_STAMP): package.json package-lock.json
	@command -v node >/dev/null || { echo "Node.js 20+ is required (https://nodejs.org)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_MODULES_STAMP)

install: $(NODE_MODULES_STAMP)

build: install
	npx tsx scripts/buildEnclave.ts

## Start the host + simulated enclave (SQLite under ./data) and print where to go.
sim: install
	npx tsx scripts/sim.ts

## Install and run every test (unit, integration, adversarial, e2e).
test: install
	npx tsc --noEmit -p .
	npx tsx scripts/checkBoundaries.ts
	npx vitest run --reporter=default --reporter=json --outputFile=.vitest-results.json; status=$$?; \
	  node scripts/testSummary.mjs .vitest-results.json || true; exit $$status

bench: install
	npx tsx scripts/bench.ts

demo: install
	node bin/bursar.mjs demo

typecheck: install
	npx tsc --noEmit -p .

clean:
	rm -rf dist data

## Crash soak: SIGKILL enclave/host at random points under steady payments (SOAK_CYCLES, SEED, SOAK_TARGETS).
soak: install build
	npx tsx scripts/soak.ts

## Fuzz parsers, schemas and a live enclave (SEED, COUNT; default 1,000,000 inputs).
fuzz: install build
	npx tsx scripts/fuzz.ts
