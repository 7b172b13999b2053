# Entry points for users and CI. `make demo` and `make test` work on a fresh machine: they
# install their own build dependencies first (packaging/install-deps.sh).
PYTHON ?= python3
BUILD_DIR ?= build
JOBS ?= 2

.PHONY: all deps configure build test test-native test-sanitize test-sanitize-python test-python demo clean generate bench bench-shared package \
  fuzz-build fuzz fuzz-ci

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

# The Python tests that drive the native module (SANITIZE_PY_TESTS) against an ASan+UBSan Debug
# build of it in build-asan-py/module/; splunk_app/_ctdetect*.so is left alone. CTDETECT_NATIVE_DIR
# (splunk_app/__init__.py) makes pytest, and the command processes the tests start, import that
# build. CPython is not built with ASan, so gcc's runtimes are preloaded, and leak detection is off
# (CPython does not free everything at exit, by design). Any report fails the run: ASan writes its
# reports to build-asan-py/reports/ (so one from a process a test expected to fail still counts);
# UBSan's go to stderr (gcc's libubsan ignores log_path next to libasan), which aborts pytest or,
# from a command process, fails the emulator's run (tests/harness/splunkd.py).
SANITIZE_CXX ?= g++
# tests/hostile/test_resources.py is left out: it bounds the command's peak memory, which ASan's
# shadow memory and quarantine inflate.
SANITIZE_PY_TESTS ?= tests/shim tests/parity tests/detections tests/test_readme_detections.py \
  tests/modinput/test_splitter.py tests/hostile --ignore=tests/hostile/test_resources.py
test-sanitize-python: deps
	@cmake -S . -B build-asan-py -G Ninja -DCMAKE_CXX_COMPILER=$(SANITIZE_CXX) -DCMAKE_BUILD_TYPE=Debug \
	  -DCTDETECT_BUILD_PYTHON=ON -DCTDETECT_BUILD_TESTS=OFF -DCTDETECT_BUILD_CLI=OFF \
	  -DCTDETECT_MODULE_DIR="$(CURDIR)/build-asan-py/module" \
	  -DPython_EXECUTABLE="$$($(PYTHON) -c 'import sys; print(sys.executable)')" \
	  "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  -DCMAKE_MODULE_LINKER_FLAGS=-fsanitize=address,undefined >/dev/null
	@cmake --build build-asan-py -j $(JOBS)
	@rm -rf build-asan-py/reports && mkdir build-asan-py/reports
	@python="$$($(PYTHON) -c 'import sys; print(sys.executable)')"; status=0; \
	LD_PRELOAD="$$($(SANITIZE_CXX) -print-file-name=libasan.so) $$($(SANITIZE_CXX) -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1:log_path="$(CURDIR)/build-asan-py/reports/asan" \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1 \
	CTDETECT_NATIVE_DIR="$(CURDIR)/build-asan-py/module" CTDETECT_REQUIRE_NATIVE=1 \
	"$$python" -m pytest -q -p no:cacheprovider --capture=sys $(SANITIZE_PY_TESTS) || status=$$?; \
	if [ -n "$$(ls build-asan-py/reports)" ]; then \
	  cat build-asan-py/reports/*; echo "test-sanitize-python: sanitizer reports above"; exit 1; fi; \
	exit $$status

# libFuzzer targets (native/fuzz/, clang, ASan + UBSan) in build-fuzz/, seeds generated from the
# shared data. `make fuzz` runs each target FUZZ_SECONDS (default 300); `make fuzz-ci` is the
# short pass of `make test` (10 s each). Any finding fails the run; see README, "Fuzzing".
FUZZ_SECONDS ?= 300
fuzz-build: deps
	@cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" -DCTDETECT_BUILD_FUZZ=ON -DCTDETECT_BUILD_PYTHON=OFF \
	  -DCTDETECT_BUILD_CLI=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target flatten_fuzzer chunk_fuzzer condition_fuzzer splitter_fuzzer
	@$(PYTHON) native/fuzz/make_seeds.py --out build-fuzz/seeds

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) PYTHON=$(PYTHON) native/fuzz/run_fuzz.sh

fuzz-ci: fuzz-build
	@FUZZ_SECONDS=10 PYTHON=$(PYTHON) native/fuzz/run_fuzz.sh

test: test-native test-sanitize test-sanitize-python test-python fuzz-ci

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

# The command end to end on the real shared records (repeated), same driver as `make bench`.
bench-shared: build
	@$(PYTHON) native/bench/shared_bench.py $(BENCH_ARGS)

demo: build
	@$(PYTHON) tests/harness/demo.py samples/demo_events.ndjson

clean:
	rm -rf $(BUILD_DIR) build-asan build-asan-py build-fuzz splunk_app/_ctdetect*.so build-package dist
