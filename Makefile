# Entry points for users and CI. `make demo` and `make test` work on a fresh machine: they
# install their own build dependencies first (packaging/install-deps.sh).
PYTHON ?= python3
BUILD_DIR ?= build
JOBS ?= 2

.PHONY: all deps configure build test test-native test-python demo clean

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

test: test-native test-python

demo: build
	@$(PYTHON) tests/harness/demo.py samples/demo_events.ndjson

clean:
	rm -rf $(BUILD_DIR) splunk_app/_ctdetect*.so
