# Thin wrapper over CMake: the README's commands.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build demo check check-fast bench install abi-coverage clean

all: build

# Installs the Debian packages the build needs (apt, as root). Fails loudly.
deps:
	@scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	$(BUILD)/tdxsim-bringup
	@echo
	$(BUILD)/tdxsim-guest-demo

# Every test, then again under ASan+UBSan, then the concurrency and
# multi-vCPU tests (label tsan, target tsan-tests) under ThreadSanitizer.
check: build
	ctest --test-dir $(BUILD) -j$(JOBS) --output-on-failure
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DTDXSIM_SANITIZE=ON -DTDXSIM_BENCH=OFF $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD_ASAN) -j$(JOBS)
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp ctest --test-dir $(BUILD_ASAN) -j$(JOBS) --output-on-failure
	cmake -S . -B $(BUILD_TSAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTDXSIM_TSAN=ON -DTDXSIM_BENCH=OFF $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD_TSAN) -j$(JOBS) --target tsan-tests
	TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp second_deadlock_stack=1" ctest --test-dir $(BUILD_TSAN) -L tsan -j$(JOBS) --output-on-failure

check-fast: build
	ctest --test-dir $(BUILD) -j$(JOBS) --output-on-failure

bench: build
	@mkdir -p $(BUILD)/bench
	$(BUILD)/bench/tdxsim-bench $(BUILD)/bench/results.json
	scripts/plot-paths.sh $(BUILD)/bench/vm-entry-paths.dat $(BUILD)/bench/vm-entry-paths.svg
	@cat $(BUILD)/bench/results.json

install: build
	cmake --install $(BUILD)

abi-coverage: build
	$(BUILD)/gen-abi-coverage . > docs/abi-coverage.md

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN)
