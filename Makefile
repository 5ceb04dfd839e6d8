# Thin wrapper over CMake. `make demo` and `make test` are the two commands a new user needs.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
SECONDS    ?= 60
JOBS       ?= $(shell nproc)
PREFIX     ?= /usr/local

.PHONY: all deps build demo test test-fast test-asan test-fuzz fuzz fuzz-build install bench fixtures \
	format clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	scripts/demo.sh $(BUILD)/attn

# The whole suite, then the whole suite again under AddressSanitizer + UBSan, then (where clang
# is installed) each fuzz harness once over its committed corpus.
test: test-fast test-asan test-fuzz

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DATTN_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ATTN_SANITIZED=1 \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	    ctest --output-on-failure -j $(JOBS)

# libFuzzer harnesses (tests/fuzz): clang only, instrumented + ASan + UBSan, in their own build.
fuzz-build: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DATTN_FUZZ=ON -DATTN_BUILD_TESTS=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_targets

# make fuzz SECONDS=N: every harness for N seconds (scripts/fuzz.sh; crashes in build-fuzz/fuzz-crashes).
fuzz: fuzz-build
	scripts/fuzz.sh $(FUZZ_BUILD) run $(SECONDS)

test-fuzz:
	@if command -v clang >/dev/null 2>&1; then \
	    $(MAKE) --no-print-directory fuzz-build && scripts/fuzz.sh $(FUZZ_BUILD) smoke; \
	else echo "test-fuzz: no clang, the fuzz harnesses are skipped"; fi

install: build
	cmake --install $(BUILD)

bench: build
	bench/run.sh $(BUILD)

fixtures:
	/usr/bin/python3 tests/parity/make_fixtures.py tests/fixtures

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
