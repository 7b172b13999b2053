# Entry points for users and CI. `make demo` and `make test` work on a fresh machine: they
# install their own build dependencies first (packaging/install-deps.sh).
PYTHON ?= python3
BUILD_DIR ?= build
JOBS ?= 2

.PHONY: all deps configure build test test-native test-sanitize test-python demo clean generate bench package

all: build

deps:
	@PYTHON=$(PYTHON) packaging/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCTDETECT_BUILD_TESTS=ON \
	  -DPython_EXECUTABLE="$$(command -v $(PYTHON))" >/dev/null

# Builds in place: the Python module lands in splunk_app/, so bin/cloudtraildetect.py runs
# from the checkout.
build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

test-native: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

test-python: build
	CTDETECT_REQUIRE_NATIVE=1 $(PYTHON) -m pytest -q tests

# The GoogleTest suite again under AddressSanitizer and UndefinedBehaviorSanitizer (Debug, so
# simdjson's own development checks run too); any report fails the run.
test-sanitize: deps
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCTDETECT_BUILD_TESTS=ON \
	  -DCTDETECT_BUILD_PYTHON=OFF -DCTDETECT_BUILD_CLI=OFF \
	  "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

test: test-native test-sanitize test-python

# dist/<app id>-<version>.tar.gz for Splunk 9.3-10.x (portable native modules for Python 3.9
# and 3.13, built under build-package/), then AppInspect on it, plain and with the cloud tags.
# tests/packaging/test_install.py (in test-python) builds and installs the same package.
package: deps
	@$(PYTHON) packaging/build_package.py

# Rewrites the generated part of default/savedsearches.conf and default/macros.conf (one alert
# and one filter macro per detection) from the detections; a test fails when it is stale.
generate:
	@$(PYTHON) packaging/generate_savedsearches.py

# The benchmark suite (not part of `make test`): builds ctdetect_bench, generates the corpus once
# (build/bench/), prints the table and checks the targets. BENCH_ARGS=--events 100000 for a quick run.
bench: configure
	@cmake -S . -B $(BUILD_DIR) -DCTDETECT_BUILD_BENCH=ON >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)
	@$(PYTHON) native/bench/run_bench.py $(BENCH_ARGS)

demo: build
	@$(PYTHON) tests/harness/demo.py samples/demo_events.ndjson

clean:
	rm -rf $(BUILD_DIR) build-asan splunk_app/_ctdetect*.so build-package dist
