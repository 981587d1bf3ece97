# eddy: make demo (deps, build, example job), make test, make bench.
SWIFT ?= swift
# The Swift runtime and Foundation linked in: the binary needs only librocksdb and the C
# libraries beside it, and starts in ~13 ms rather than ~20 (no dynamic linking of a dozen
# Swift libraries, ICU among them).
BUILD_FLAGS ?= -c release --static-swift-stdlib
BIN = .build/release/eddy
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BENCH_DATA = bench-data
GEN = ../shared/bench/gen_events.py

.PHONY: deps build demo test crash-test bench bench-ceiling bench-many-keys bench-ttl bench-flink clean

# Debian packages the build needs; installed only when missing.
deps:
	@if ! dpkg -s librocksdb-dev >/dev/null 2>&1; then \
		echo "installing librocksdb-dev"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y librocksdb-dev; \
	fi

build: deps
	$(SWIFT) build $(BUILD_FLAGS) --product eddy

demo: build
	@echo "== eddy validate jobs/card_velocity.json"
	@$(BIN) validate jobs/card_velocity.json
	@echo "== eddy run jobs/card_velocity.json jobs/card_velocity.input.jsonl (first 5 records)"
	@$(BIN) run jobs/card_velocity.json jobs/card_velocity.input.jsonl | head -n 5
	@echo "== eddy run jobs/host_metrics.json jobs/host_metrics.input.csv --output-format csv"
	@$(BIN) run jobs/host_metrics.json jobs/host_metrics.input.csv --output-format csv | head -n 6
	@echo "== eddy run jobs/card_risk.json jobs/card_velocity.input.jsonl --broadcast merchants=jobs/card_risk.merchants.csv --parallelism 2 (first 3 records)"
	@$(BIN) run jobs/card_risk.json jobs/card_velocity.input.jsonl --broadcast merchants=jobs/card_risk.merchants.csv --parallelism 2 | head -n 3
	@echo "== eddy run jobs/host_minutes.json jobs/host_minutes.input.csv (tumbling 1-minute windows, first 3 records)"
	@$(BIN) run jobs/host_minutes.json jobs/host_minutes.input.csv | head -n 3

# Unit tests, then end-to-end tests of the release binary on jobs/.
test: build
	$(SWIFT) test
	EDDY=$(BIN) ./Tests/e2e/run.sh
	EDDY=$(BIN) ./Tests/crash/run.sh 10 100000

# The long crash test, for the record: 100 SIGKILLs per backend and input mode.
crash-test: build
	EDDY=$(BIN) ./Tests/crash/run.sh 100 200000

bench: build
	@mkdir -p $(BENCH_DATA)
	@[ -f $(BENCH_DATA)/events-1m.jsonl ] || python3 $(GEN) --events 1000000 --keys 100000 --out $(BENCH_DATA)/events-1m.jsonl
	./bench/run.sh $(BIN) $(BENCH_DATA)/events-1m.jsonl
	@[ -f $(BENCH_DATA)/events-3m-1mkeys.jsonl ] || python3 $(GEN) --events 3050000 --keys 1000000 --skew 1.0 --out $(BENCH_DATA)/events-3m-1mkeys.jsonl
	./bench/checkpoints.sh $(BIN) $(BENCH_DATA)/events-3m-1mkeys.jsonl

# The card job against a program hand-specialised to it (bench/ceiling): how far eddy is
# from the fastest this job runs on the machine.
bench-ceiling: build
	@mkdir -p $(BENCH_DATA)
	@[ -f $(BENCH_DATA)/events-1m.jsonl ] || python3 $(GEN) --events 1000000 --keys 100000 --out $(BENCH_DATA)/events-1m.jsonl
	./bench/ceiling.sh $(BIN) $(BENCH_DATA)/events-1m.jsonl 7

# State larger than its budget: ~2.6M distinct keys, rocksdb with --state-memory 64MB vs memory.
bench-many-keys: build
	@mkdir -p $(BENCH_DATA)
	@[ -f $(BENCH_DATA)/events-6m-3mkeys.jsonl ] || python3 $(GEN) --events 6000000 --keys 3000000 --skew 1.0 --out $(BENCH_DATA)/events-6m-3mkeys.jsonl
	./bench/many_keys.sh $(BIN) $(BENCH_DATA)/events-6m-3mkeys.jsonl

# State TTL on a stream of 5M events over churning keys: keys held and bytes stay flat.
bench-ttl: build
	./bench/ttl_churn.sh $(BIN) 5000000

# eddy against Apache Flink 2.3 (PyFlink's local mini-cluster, which needs Java 17) on the same
# jobs and input, side by side: see BENCHMARKS.md. PyFlink goes into a venv under bench-data,
# installed from PyPI only when missing (about 850 MB with its bundled Flink). Not part of
# make test or CI.
PYFLINK_VENV = $(BENCH_DATA)/pyflink
bench-flink: build
	@mkdir -p $(BENCH_DATA)
	@if ! $(PYFLINK_VENV)/bin/python -c 'import pyflink.version as v; assert v.__version__ == "2.3.0"' 2>/dev/null; then \
		echo "installing apache-flink==2.3.0 into $(PYFLINK_VENV)"; \
		python3 -m venv $(PYFLINK_VENV) && $(PYFLINK_VENV)/bin/pip install apache-flink==2.3.0; \
	fi
	@[ -f $(BENCH_DATA)/events-1m.jsonl ] || python3 $(GEN) --events 1000000 --keys 100000 --out $(BENCH_DATA)/events-1m.jsonl
	PYFLINK=$(PYFLINK_VENV)/bin/python ./bench/flink.sh $(BIN) $(BENCH_DATA)/events-1m.jsonl 3

clean:
	rm -rf .build $(BENCH_DATA)
