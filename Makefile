# firn - build, test, demo, benchmarks and fuzzers.
#
#   make            build build/firn
#   make demo       run the main job on embedded defaults
#   make test       the whole test suite (unit, interop); last line "N passed, N failed"
#   make test-long  the large sizes the issues name
#   make asan       unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make valgrind   unit tests under valgrind memcheck
#   make fuzz       build the libFuzzer targets (clang); make fuzz-replay replays the corpus
#   make bench-parquet   Parquet write/read speed against DuckDB, image writes against write()
#   make bench-kafka     Kafka transport produce/consume against librdkafka alone (mock cluster)
#   make bench-validate  event parse + validate speed against jansson, image checks against libturbojpeg
#   make bench-sim  firn sim's image rendering + encoding against raw tjCompress2
#   make bench-spool     spool append (fsync batch) and poll against write()+fsync and read()
#   make bench-scan      table scans: bytes a one-day filter reads, full scan against DuckDB
#   make bench-s3        S3 FileIO upload/download against `aws s3 cp` (moto_server)
#   make bench-ingest    HTTP ingest (32 keep-alive clients) against direct spool appends
#   make bench-pipeline  the pipeline end to end: small events/core, images MB/s, freshness, RSS
#   make bench-dashboard dashboard pages/API on a 10,000-snapshot table, cold and warm, against jansson parsing its metadata
#   make bench-scaleout  1, 2, 3 `firn process --group` workers against librdkafka consume-only (mock cluster)
#   make bench-metadata-parse  parsing a 10,000-snapshot metadata.json against jansson's json_loads
#
# Variants build into their own directory: BUILDDIR=build/asan EXTRA_CFLAGS=... make tests

CC        ?= cc
BUILDDIR  ?= build
PKGS      := libzstd liblz4 zlib jansson libxxhash sqlite3 rdkafka libturbojpeg libpng yaml-0.1 \
             libmicrohttpd libcurl libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lsnappy -lm
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla -Wformat=2 \
             -Wno-format-nonliteral
OPT       ?= -O2 -g
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -Isrc $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS_ALL = $(EXTRA_LDFLAGS)

LIB_SRCS  := $(filter-out src/cli/%,$(wildcard src/*/*.c))
CLI_SRCS  := $(wildcard src/cli/*.c)
TEST_SRCS := $(wildcard tests/unit/*.c)
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOLS     := $(TOOL_SRCS:tests/tools/%.c=$(BUILDDIR)/tools/%)
HDRS      := $(wildcard src/*/*.h) $(wildcard tests/unit/*.h) $(wildcard tests/tools/*.h)

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILDDIR)/obj/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILDDIR)/obj/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILDDIR)/obj/%.o)
# `firn help CMD` prints docs/cli/CMD.md, embedded at build time
CLI_DOCS  := $(sort $(wildcard docs/cli/*.md))
CLI_OBJS  += $(BUILDDIR)/obj/gen/cli_docs.o

.PHONY: all firn tests demo test test-unit test-interop test-long asan valgrind fuzz
.PHONY: fuzz-replay deps clean
# one line per benchmark target, so that adding one never conflicts
.PHONY: bench-parquet
.PHONY: bench-kafka
.PHONY: bench-validate
.PHONY: bench-spool
.PHONY: bench-maintain
.PHONY: bench-scan
.PHONY: bench-s3
.PHONY: bench-catalog
.PHONY: bench-ingest
.PHONY: bench-pipeline
.PHONY: bench-dashboard
.PHONY: bench-scaleout
.PHONY: bench-metadata-parse
.DEFAULT_GOAL := all

all: $(BUILDDIR)/firn

$(BUILDDIR)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILDDIR)/libfirn.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILDDIR)/firn: $(CLI_OBJS) $(BUILDDIR)/libfirn.a
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(CLI_OBJS) $(BUILDDIR)/libfirn.a $(PKG_LIBS)

$(BUILDDIR)/gen/cli_docs.c: $(CLI_DOCS) scripts/embed_docs.sh
	@mkdir -p $(dir $@)
	sh scripts/embed_docs.sh $(CLI_DOCS) >$@.tmp && mv $@.tmp $@

$(BUILDDIR)/obj/gen/cli_docs.o: $(BUILDDIR)/gen/cli_docs.c src/cli/cli.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILDDIR)/firn-tests: $(TEST_OBJS) $(BUILDDIR)/libfirn.a
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(TEST_OBJS) $(BUILDDIR)/libfirn.a $(PKG_LIBS)

$(BUILDDIR)/bench/%: bench/%.c $(BUILDDIR)/libfirn.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(BUILDDIR)/libfirn.a $(PKG_LIBS)

$(BUILDDIR)/tools/%: tests/tools/%.c $(BUILDDIR)/libfirn.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(BUILDDIR)/libfirn.a $(PKG_LIBS)

tests: $(BUILDDIR)/firn-tests $(BUILDDIR)/firn $(TOOLS)

# every benchmark builds (CI builds them, so an API change cannot leave one behind)
BENCHES := $(patsubst bench/%.c,$(BUILDDIR)/bench/%,$(wildcard bench/*.c))
benches: $(BENCHES)
.PHONY: benches

deps:
	@bash scripts/deps.sh --if-missing

demo: deps all
	@bash scripts/demo.sh

test: deps tests
	@bash tests/run.sh

test-long: deps tests $(BUILDDIR)/bench/bench_parquet
	@FIRN_TEST_LONG=1 bash tests/run.sh

test-unit: tests
	@$(BUILDDIR)/firn-tests

asan:
	@$(MAKE) --no-print-directory BUILDDIR=build/asan OPT="-O1 -g" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" build/asan/firn-tests build/asan/firn
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build/asan/firn-tests

valgrind: tests
	valgrind --error-exitcode=9 --child-silent-after-fork=yes --leak-check=full --errors-for-leak-kinds=definite,indirect \
	  --quiet $(BUILDDIR)/firn-tests

FUZZERS := $(patsubst fuzz/%.c,%,$(wildcard fuzz/*.c))
FUZZ_CFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined

fuzz:
	@$(MAKE) --no-print-directory CC=clang BUILDDIR=build/fuzz OPT="-O1 -g" \
	  EXTRA_CFLAGS="$(FUZZ_CFLAGS)" build/fuzz/libfirn.a
	@for f in $(FUZZERS); do \
	  echo "clang fuzz/$$f.c"; \
	  clang -std=c11 -D_GNU_SOURCE -O1 -g -Isrc $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -o build/fuzz/$$f fuzz/$$f.c build/fuzz/libfirn.a $(PKG_LIBS) || exit 1; \
	done

# Replays every corpus file through its fuzzer (ASan + UBSan), no new inputs.
fuzz-replay: fuzz
	@for f in $(FUZZERS); do \
	  echo "replay $$f: $$(ls fuzz/corpus/$$f | wc -l) inputs"; \
	  build/fuzz/$$f -runs=0 fuzz/corpus/$$f >/dev/null 2>build/fuzz/$$f.log || \
	    { cat build/fuzz/$$f.log; exit 1; }; \
	done

bench-parquet: deps $(BUILDDIR)/bench/bench_parquet
	@bash bench/parquet.sh

bench-commit: deps $(BUILDDIR)/bench/bench_commit
	@bash bench/commit.sh

bench-kafka: deps $(BUILDDIR)/bench/bench_kafka
	@$(BUILDDIR)/bench/bench_kafka
bench-validate: deps $(BUILDDIR)/bench/bench_validate
	@$(BUILDDIR)/bench/bench_validate
.PHONY: bench-sim
bench-sim: deps $(BUILDDIR)/bench/bench_sim
	@$(BUILDDIR)/bench/bench_sim
bench-spool: deps $(BUILDDIR)/bench/bench_spool
	@$(BUILDDIR)/bench/bench_spool $(BUILDDIR)/bench-data/spool
bench-maintain: deps $(BUILDDIR)/bench/bench_maintain
	@bash bench/maintain.sh
bench-scan: deps $(BUILDDIR)/bench/bench_scan
	@bash bench/scan.sh
bench-s3: deps $(BUILDDIR)/tools/s3_io
	@bash bench/s3.sh
bench-catalog: deps $(BUILDDIR)/bench/bench_catalog
	@bash bench/catalog.sh

bench-ingest: deps $(BUILDDIR)/bench/bench_ingest
	@$(BUILDDIR)/bench/bench_ingest $(BUILDDIR)/bench-data/ingest

bench-pipeline: deps $(BUILDDIR)/bench/bench_pipeline
	@$(BUILDDIR)/bench/bench_pipeline $(BUILDDIR)/bench-data/pipeline
bench-dashboard: deps $(BUILDDIR)/bench/bench_dashboard $(BUILDDIR)/bench/bench_scan
	@bash bench/dashboard.sh
bench-metadata-parse: deps $(BUILDDIR)/bench/bench_metadata_parse
	@$(BUILDDIR)/bench/bench_metadata_parse 10000

# the dashboard's files are embedded with .incbin
$(BUILDDIR)/obj/src/server/dashboard.o: $(wildcard src/server/assets/*)

clean:
	rm -rf build

bench-scaleout: deps $(BUILDDIR)/firn $(BUILDDIR)/tools/mock_kafka $(BUILDDIR)/bench/bench_scaleout
	@bash bench/scaleout.sh
