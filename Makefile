# The two set-up commands (see README): `make run` and `make test`. Everything else is a helper.
JOBS ?= 2
BUILD_RELEASE ?= build/release
BUILD_TEST ?= build/test
BUILD_ASAN ?= build/asan
BUILD_FUZZ ?= build/fuzz
FUZZ_SECONDS ?= 60
PORT ?= 8080
CMAKE_COMMON = -G Ninja -Wno-dev
# Let ccache reuse objects across checkouts in different folders (CI builds a fresh clone).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

.PHONY: deps run build-release build-test test test-asan fuzz format bench clean

deps:
	@bash scripts/install-deps

build-release: deps
	@cmake -S . -B $(BUILD_RELEASE) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release -DTGI_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(BUILD_RELEASE) -j $(JOBS) --target tgi

run: build-release
	$(BUILD_RELEASE)/tgi serve --port $(PORT) $(ARGS)

build-test: deps
	@cmake -S . -B $(BUILD_TEST) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_TEST) -j $(JOBS)

test: build-test
	cd $(BUILD_TEST) && ctest --output-on-failure -j $(JOBS) --timeout 900

test-asan: deps
	@cmake -S . -B $(BUILD_ASAN) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug -DTGI_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS) --timeout 1800

# libFuzzer harnesses (clang), each run for FUZZ_SECONDS from the committed seed corpus.
fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B $(BUILD_FUZZ) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DTGI_BUILD_TESTS=OFF -DTGI_FUZZ=ON >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzzers
	@bash scripts/run-fuzzers $(BUILD_FUZZ) $(FUZZ_SECONDS)

format:
	@git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf build
