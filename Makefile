# Tusk: build, test and run. Every target installs the system packages it needs first.
SHELL := /bin/bash
SWIFT ?= swift
RELEASE_BIN := .build/release/tusk
DEBUG_BIN := .build/debug/tusk
SHARED ?= ../shared

BUILD_PKGS := libpcap-dev pkg-config
E2E_PKGS := openvswitch-switch iperf3 ethtool iproute2 iputils-ping tshark tcpdump python3 openssl curl chromium python3-websocket
BENCH_PKGS := pmacct tshark libjemalloc-dev hyperfine wrk curl

.PHONY: all deps deps-e2e deps-bench build release test run e2e reliability soak bench conformance fuzz fuzz-campaign clean

all: build

deps:
	@scripts/ensure-packages.sh $(BUILD_PKGS)

deps-e2e: deps
	@scripts/ensure-packages.sh $(E2E_PKGS)

deps-bench: deps
	@scripts/ensure-packages.sh $(BENCH_PKGS)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Unit and integration tests (no root, no ../shared needed).
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# The main job on an embedded default.
run: release
	@scripts/run-default.sh $(RELEASE_BIN)

# Real-switch tests: Open vSwitch bridges, hosts in network namespaces (needs root).
e2e: deps-e2e release
	@Tests/e2e/run.sh $(RELEASE_BIN)

# The fault campaign (docs/reliability.md): the hostile-switch and TLS-refusal suites over loopback, then
# every Tests/e2e/test-fault-*.sh and the 60 s sFlow overload on the Open vSwitch lab (needs root).
reliability: deps-e2e release
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter 'HostileSwitchTests|TLSRefusalTests'
	@set -e; for t in Tests/e2e/test-fault-*.sh Tests/e2e/sflow-overload-lab.sh; do echo "--- $$t"; TUSK_BIN=$(RELEASE_BIN) bash $$t; echo "ok: $$t"; done

# The long reliability run: the controller on the lab for SOAK_MINUTES (default 60) with churn.
soak: deps-e2e release
	@TUSK_BIN=$(RELEASE_BIN) bash Tests/e2e/soak.sh

# Checks against the captures and messages in $(SHARED)/conformance.
conformance: deps release
	@Tests/conformance/run.sh $(RELEASE_BIN) $(SHARED)/conformance

bench: deps-bench release
	@Benchmarks/run.sh

# libFuzzer (coverage-guided, with AddressSanitizer and LeakSanitizer) over the sFlow decoder, the
# OpenFlow stream decoder, the policy and the topology file readers: FUZZ_SECONDS each (default 60).
# Not part of `make test`. See docs/fuzzing.md.
fuzz: deps
	@SHARED=$(SHARED) Fuzz/run.sh $${FUZZ_SECONDS:-60}

# The long run: every target until 10 million executions (or FUZZ_SECONDS, default 10800: the YAML
# targets take 1,300-3,000 executions a second here, so 10 million can take 2 hours), niced.
fuzz-campaign: deps
	@SHARED=$(SHARED) FUZZ_RUNS=$${FUZZ_RUNS:-10000000} nice -n 10 Fuzz/run.sh $${FUZZ_SECONDS:-10800}

clean:
	rm -rf .build .build-*
