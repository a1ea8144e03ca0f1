# softsev — top-level commands.  The real build is meson + ninja.
#   make demo   the bundled demonstration (README's main job: softsev demo)
#   make fwdemo the firmware-level tour (two platforms, no KVM)
#   make test   all tests; the unit tests again under ASan + UBSan and under
#               ThreadSanitizer; a short run of every fuzz target
#   make coverage  line and branch coverage of src/kvm, src/psp, src/ccp by
#               the unit tests (gcovr, in $(COV_BUILD))
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
COV_BUILD ?= build-cov

.PHONY: all deps build demo fwdemo test test-fast sanitize-build tsan-build fuzz-build fuzz \
	coverage clean

all: build

deps:
	@scripts/bootstrap.sh

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) --buildtype=debugoptimized

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(ASAN_BUILD)/build.ninja: | deps
	meson setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined \
		-Dconformance=false \
		-Db_lundef=false

sanitize-build: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

$(TSAN_BUILD)/build.ninja: | deps
	meson setup $(TSAN_BUILD) --buildtype=debug -Db_sanitize=thread \
		-Dconformance=false \
		-Db_lundef=false

tsan-build: deps $(TSAN_BUILD)/build.ninja
	ninja -C $(TSAN_BUILD)

$(FUZZ_BUILD)/build.ninja: | deps
	CC=clang meson setup $(FUZZ_BUILD) --buildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true \
		-Dconformance=false -Dtests=disabled

fuzz-build: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)

# A short run of every fuzz target (FUZZ_SECONDS each, default 15).
fuzz: fuzz-build
	meson test -C $(FUZZ_BUILD) --suite fuzz

demo: build
	$(BUILD)/src/cli/softsev demo

fwdemo: build
	$(BUILD)/tools/softsev-fwdemo

test: build sanitize-build tsan-build fuzz-build
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/tests/tsan.supp" \
		scripts/run-tests.sh $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) \
			$(FUZZ_BUILD)

coverage: deps
	scripts/coverage.sh $(COV_BUILD)

test-fast: build
	scripts/run-tests.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD) $(COV_BUILD)
