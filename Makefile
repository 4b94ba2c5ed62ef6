# keyhold - front door. `make run` to try it, `make test` for everything CI runs.
#
#   make deps     install missing Debian packages (apt-get, non-interactive)
#   make          build build/keyhold (CMake, RelWithDebInfo)
#   make run      deps + build + init ./var/keyhold.db if absent + serve on 127.0.0.1:8080
#   make test     unit tests (ctest) and integration tests (node + official Datadog client),
#                 on the normal build and on an AddressSanitizer+UBSan build, plus a clang build;
#                 then both again on PostgreSQL (integration-pg)
#   make browser  the web console in Debian's chromium, headless (tests/browser/; also in make test)
#   make lint     refuse banned C functions in src/
#   make install  binary, man page and systemd unit under PREFIX (/usr/local), DESTDIR honoured

SHELL := /bin/bash
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

DEB_PACKAGES := python3-prometheus-client build-essential cmake pkg-config clang libclang-rt-14-dev libh2o-evloop-dev libjansson-dev \
                libsqlite3-dev sqlite3 libpq-dev postgresql libssl-dev zlib1g-dev libsystemd-dev libinih-dev \
                systemd man-db socat git libcurl4-openssl-dev chromium
NODE_PACKAGES := nodejs npm

INTEGRATION := tests/integration
IT_FILES := seed.test.mjs audit.test.mjs rotation.test.mjs operate.test.mjs auth.test.mjs operations.test.mjs roles-users.test.mjs catalog.test.mjs double.test.mjs \
            scenarios.test.mjs shapes.test.mjs authz-matrix.test.mjs invariant.test.mjs limits.test.mjs hostile.test.mjs \
            stall.test.mjs cli.test.mjs cli-admin.test.mjs scan.test.mjs install.test.mjs crash.test.mjs nodes.test.mjs \
            usage.test.mjs history.test.mjs leaks.test.mjs \
            webhooks.test.mjs
# The contract (../shared/spec): beside this checkout, or beside the repository a
# local clone was made from (as in `git clone . /tmp/kh-ci`).
ORIGIN_DIR := $(shell git config --get remote.origin.url 2>/dev/null | grep '^/' )
SPEC_DIR ?= $(firstword $(wildcard $(abspath ../shared/spec) $(if $(ORIGIN_DIR),$(abspath $(ORIGIN_DIR)/../shared/spec))) $(abspath ../shared/spec))

.PHONY: all build deps run test unit integration integration-pg browser lint clean build-asan build-clang build-fuzz fuzz fuzz-smoke soak bench bench-startup install

SOAK_SECONDS ?= 600
CRASH_ROUNDS ?= 5

FUZZERS := fuzz_request fuzz_json fuzz_query fuzz_token fuzz_scan fuzz_leakreport
FUZZ_SECONDS ?= 60

all: build

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	command -v node >/dev/null && command -v npm >/dev/null || missing="$$missing $(NODE_PACKAGES)"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build/Makefile: CMakeLists.txt
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: build/Makefile
	cmake --build build -j $(JOBS)

build-asan:
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKH_SANITIZE=ON >/dev/null
	cmake --build build-asan -j $(JOBS)

build-clang:
	CC=clang cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build-clang -j $(JOBS)

# make install [PREFIX=/usr/local] [DESTDIR=...]: the binary (PREFIX/bin), the
# man page keyhold(1) (PREFIX/share/man/man1) and the systemd unit
# keyhold.service (PREFIX/lib/systemd/system; ExecStart under PREFIX).
PREFIX ?= /usr/local
install: build
	DESTDIR="$(DESTDIR)" cmake --install build --prefix "$(PREFIX)"

run: deps build
	@mkdir -p var
	@if [ ! -f var/keyhold.db ]; then ./build/keyhold init --db var/keyhold.db; echo; fi
	./build/keyhold serve --db var/keyhold.db --listen 127.0.0.1:8080

build-fuzz:
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKH_FUZZ=ON >/dev/null
	cmake --build build-fuzz -j $(JOBS) $(addprefix --target ,$(FUZZERS))

# Each target runs FUZZ_SECONDS from the committed seeds in fuzz/corpus/<name>
# (read-only: new inputs go to build-fuzz/corpus/<name>). A crash, leak or
# sanitizer report fails the run and leaves the input in build-fuzz/.
fuzz: build-fuzz
	@for f in $(FUZZERS); do \
	  n=$${f#fuzz_}; mkdir -p build-fuzz/corpus/$$n; \
	  echo "fuzzing $$f for $(FUZZ_SECONDS)s"; \
	  ./build-fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=build-fuzz/$$f- -print_final_stats=1 build-fuzz/corpus/$$n fuzz/corpus/$$n \
	    2>build-fuzz/$$f.log || { tail -40 build-fuzz/$$f.log; exit 1; }; \
	  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build-fuzz/$$f.log | sed "s/^/  $$f /"; \
	done

fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=10

# The long variants of issue 4: mixed traffic for SOAK_SECONDS (memory,
# 5xx, log errors, integrity) and CRASH_ROUNDS rounds of the kill -9 test.
soak: build $(INTEGRATION)/node_modules/.package-lock.json
	cd $(INTEGRATION) && KEYHOLD_BIN=$(CURDIR)/build/keyhold SOAK_SECONDS=$(SOAK_SECONDS) node ../soak/soak.mjs
	cd $(INTEGRATION) && KEYHOLD_BIN=$(CURDIR)/build/keyhold KEYHOLD_SPEC_DIR=$(SPEC_DIR) \
	  KEYHOLD_CRASH_ROUNDS=$(CRASH_ROUNDS) node --test crash.test.mjs

# Issue 5: keyhold against nginx with wrk; writes bench/RESULTS.md (installs wrk and nginx).
# Then the start-up of serve --ephemeral against nginx's: bench/STARTUP.md.
bench: deps build
	bash bench/run.sh
	python3 bench/startup.py

bench-startup: deps build
	python3 bench/startup.py

lint:
	@if grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|atoll)\s*\(' src -r; then \
	  echo "lint: banned function (see docs/internals/layout.md, \"Bounds and banned calls\")"; exit 1; fi
	@echo "lint: ok"

$(INTEGRATION)/node_modules/.package-lock.json: $(INTEGRATION)/package-lock.json
	cd $(INTEGRATION) && npm ci --no-audit --no-fund --loglevel=error

unit: build build-asan
	cd build && ctest --output-on-failure
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure

# Each run records the operations its client calls made; coverage.test.mjs then checks that
# every operation of the spec was called (node's runner orders files itself, so it runs apart).
integration: build build-asan $(INTEGRATION)/node_modules/.package-lock.json
	rm -f build/coverage.jsonl* build-asan/coverage.jsonl*
	cd $(INTEGRATION) && KEYHOLD_BIN=$(CURDIR)/build/keyhold KEYHOLD_SPEC_DIR=$(SPEC_DIR) \
	  KEYHOLD_COVERAGE_FILE=$(CURDIR)/build/coverage.jsonl node --test --test-concurrency=1 $(IT_FILES)
	cd $(INTEGRATION) && KEYHOLD_SPEC_DIR=$(SPEC_DIR) KEYHOLD_COVERAGE_FILE=$(CURDIR)/build/coverage.jsonl \
	  node --test coverage.test.mjs
	cd $(INTEGRATION) && KEYHOLD_BIN=$(CURDIR)/build-asan/keyhold KEYHOLD_SPEC_DIR=$(SPEC_DIR) \
	  KEYHOLD_COVERAGE_FILE=$(CURDIR)/build-asan/coverage.jsonl ASAN_OPTIONS=detect_leaks=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1 node --test --test-concurrency=1 $(IT_FILES)
	cd $(INTEGRATION) && KEYHOLD_SPEC_DIR=$(SPEC_DIR) KEYHOLD_COVERAGE_FILE=$(CURDIR)/build-asan/coverage.jsonl \
	  node --test coverage.test.mjs

# The store unit tests and the integration suite again, on PostgreSQL (a
# throwaway cluster from Debian's postgresql package, tests/pg/).
integration-pg: build $(INTEGRATION)/node_modules/.package-lock.json
	bash tests/pg/with-cluster.sh bash -c 'cd build && ctest --output-on-failure -j1 && \
	  cd ../$(INTEGRATION) && KEYHOLD_BIN=$(CURDIR)/build/keyhold KEYHOLD_SPEC_DIR=$(SPEC_DIR) \
	  node --test --test-concurrency=1 $(IT_FILES)'

# The web console (docs/console.md) driven in Debian's chromium through
# playwright-core, which downloads no browser; screenshots of every page go
# to build/console-screenshots/. About half a minute.
BROWSER := tests/browser
$(BROWSER)/node_modules/.package-lock.json: $(BROWSER)/package-lock.json
	cd $(BROWSER) && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error

browser: build $(INTEGRATION)/node_modules/.package-lock.json $(BROWSER)/node_modules/.package-lock.json
	cd $(BROWSER) && KEYHOLD_BIN=$(CURDIR)/build/keyhold KEYHOLD_SPEC_DIR=$(SPEC_DIR) node --test --test-concurrency=1 console.test.mjs

test: deps lint build-clang unit integration browser integration-pg fuzz-smoke

clean:
	rm -rf build build-asan build-clang build-fuzz
