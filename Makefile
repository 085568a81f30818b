# The commands a person types. `make demo` and `make test` install what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo

.PHONY: help tools demo web cluster live test lint test-host test-sdk fuzz fuzz-smoke test-wasm-core test-web e2e bless bench bench-core bench-wasm bench-native bench-naming bench-web bench-live bench-vs-etcd bench-split-vote campaign chaos chaos-smoke partition-test

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

tools: ## install what is missing (wasm target, trunk, wasm-bindgen-cli, wasm-pack, cargo-fuzz, chromium, esbuild, the Nacos SDKs)
	@bash scripts/tools.sh

demo: tools ## build the web app and serve it at http://127.0.0.1:8080
	bash scripts/trunk.sh serve --release --address 127.0.0.1 --port 8080

web: tools ## build the static site into dist/ (works from any sub-path)
	bash scripts/trunk.sh build --release

cluster: ## start a 3-node native cluster on 127.0.0.1:8848-8850 (Ctrl-C stops it)
	@bash scripts/cluster.sh

live: tools ## 3 fast nodes with --faults and the page, prints the live-mode URL (Ctrl-C stops all)
	@FAST=1 FAULTS=1 PAGE=1 bash scripts/cluster.sh

test: tools lint test-host test-sdk fuzz-smoke chaos-smoke test-wasm-core test-web e2e ## everything CI runs
	@echo "make test: all passed"

lint: ## rustfmt and clippy (host and wasm)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p nacos-raft-node --bench vs_etcd -- -D warnings
	$(CARGO) clippy -p nacos-raft-node --bench chaos -- -D warnings
	$(CARGO) clippy -p nacos-raft-web --target wasm32-unknown-unknown --all-targets -- -D warnings
	$(CARGO) clippy -p nacos-raft-core --no-default-features --target wasm32-unknown-unknown -- -D warnings

test-host: ## unit, scenario, property and multi-process tests
	$(CARGO) test --workspace

bless: ## rewrite core/tests/golden/*.txt with what the simulator now prints (then review the diff)
	REWRITE=1 $(CARGO) test -p nacos-raft-core --test golden

test-sdk: ## the official Nacos Node and Python clients against 3 real nodes (installed by make tools)
	$(CARGO) test -p nacos-raft-node --test sdk -- --ignored

fuzz: ## coverage-guided fuzzing of every decoder a peer or client reaches, FUZZ_SECONDS (180) per target
	@bash scripts/fuzz.sh

fuzz-smoke: ## the same, 12 s per target (part of make test)
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-12} bash scripts/fuzz.sh

test-wasm-core: ## the core's scenario tests compiled to wasm, in Node and headless Chrome
	@bash scripts/test-wasm-core.sh

test-web: ## the web crate's component tests in headless Chrome
	@bash scripts/test-web.sh

e2e: ## the real page in headless Chromium, against the release build served on loopback (live mode: on three release nodes)
	@bash scripts/e2e.sh

campaign: ## fault campaign in the simulator: SEEDS (10000) seeds × 10 virtual minutes, 3 and 5 nodes; table, shrunk cases, campaign.json
	$(CARGO) run --release -p nacos-raft-core --example campaign -- --seeds $(or $(SEEDS),10000) --json $(or $(CAMPAIGN_JSON),campaign.json)

chaos-smoke: ## 8 rounds of the kill -9 campaign and 6 of the network cut campaign under --rules hardened, where any lost acknowledged write fails (part of make test; the cuts skip without namespaces or nft)
	$(CARGO) bench -q -p nacos-raft-node --bench chaos -- --rounds 8 --seed 12 --rules hardened
	CHAOS_SKIP_WITHOUT_NETNS=1 $(CARGO) bench -q -p nacos-raft-node --bench chaos -- --rounds 6 --seed 12 --rules hardened --faults cut

chaos: ## kill -9 campaign: ROUNDS (100) SIGKILLs of 3 release nodes under 32 writers; losses by rule, leaderless time, first write after a leader kill; RULES=hardened for the hardened rules; FAULTS=cut (network cuts in a namespace) or both
	$(CARGO) bench -q -p nacos-raft-node --bench chaos -- --rounds $(or $(ROUNDS),100) $(if $(SEED),--seed $(SEED)) $(if $(RULES),--rules $(RULES)) $(if $(FAULTS),--faults $(FAULTS))

partition-test: ## real partitions: 3 nodes in a network namespace cut with nftables, 4 stories beside the simulator, faithful and hardened (part of make test; skips without namespaces or nft)
	$(CARGO) test -p nacos-raft-node --test partition -- --nocapture

bench: bench-core bench-wasm bench-native bench-naming bench-web ## every benchmark (prints tables)

bench-core: ## simulator throughput (criterion)
	$(CARGO) bench -p nacos-raft-core --bench sim

bench-wasm: ## the same simulator workload compiled to wasm, run in headless Chromium and in Node, with the wasm/native ratios
	@bash scripts/bench-wasm.sh

bench-native: ## write throughput, catch-up, beat size and idle connections of real nodes
	@bash scripts/bench-native.sh

bench-naming: ## naming API registrations/s and list reads/s vs the raw datum path, 10,000-instance list
	$(CARGO) bench -q -p nacos-raft-node --bench naming

bench-web: ## frame time and size of the release build
	@bash scripts/bench-web.sh

bench-live: ## live mode's cost: writes with two viewers vs none, page frame time on 5 live nodes at 100 writes/s
	@bash scripts/bench-live.sh

bench-vs-etcd: ## real nodes vs etcd 3.4 side by side: writes/s, p50/p99, failover (installs etcd-server, wrk)
	@bash scripts/bench-vs-etcd.sh

bench-split-vote: ## leader kills on two real hardened clusters in turns, with and without split-vote, under a latency fault: how often a failover waits a second leader due
	@bash scripts/bench-split-vote.sh
