# gsmapper build. Every product lives under build/ (git-ignored); `make`
# also leaves the two programs at bin/gsrec and bin/gsreport.
#
#   make            build bin/gsrec and bin/gsreport
#   make test       install missing packages, build, run every test
#   make demo       install, build, record a bundled Go workload, report it
#   make bench      benchmarks (results go in BENCHMARKS.md by hand)
#   make fuzz       run the trace-reader fuzzer until stopped (FUZZ_SECONDS=N to bound)
#   make install PREFIX=/usr/local
#   V=1             show the commands
#   GO=/path/to/go  the Go toolchain that builds the test workloads (default
#                   Debian's 1.19); the tests use the same one as their oracle
#   GO_RELEASES="go1.N.M ..."  the releases of the version matrix (below)
#   GO_OLD_RELEASES="..."      older releases, for the symbol and heap profile tests alone

.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

O	?= build
PREFIX	?= /usr/local
CC	?= cc
ifeq ($(origin CC),default)
CC	:= gcc
endif

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-sign-compare
CFLAGS	?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE -I. -MMD -MP
LIBS	:= -lzstd -lsqlite3 -lelf -ldw -lcapstone -lz -lm
BPF_LIBS := -lbpf

FORMAT_SRC := $(wildcard format/*.c)
COMMON_SRC := $(wildcard common/*.c)
RECORD_SRC := $(wildcard record/*.c)
REPORT_SRC := $(wildcard report/*.c)
UNIT_SRC   := $(wildcard tests/unit/*.c)

obj = $(patsubst %.c,$(O)/%.o,$(1))
LIB_OBJ := $(call obj,$(FORMAT_SRC) $(COMMON_SRC))

.PHONY: all test demo bench fuzz install clean deps workloads

all: bin/gsrec bin/gsreport

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(O)/libgs.a: $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# BPF programs: bpf/X.bpf.c -> $(O)/bpf/X.bpf.o -> $(O)/bpf/X.skel.h, the
# skeleton record/X.c includes. vmlinux.h comes from this kernel's BTF.
BPF_SRC := $(wildcard bpf/*.bpf.c)
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(O)/bpf/%.skel.h,$(BPF_SRC))
$(O)/bpf/vmlinux.h:
	@mkdir -p $(@D)
	$(call msg,BTF,$@)
	$(Q)bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@
$(O)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(O)/bpf/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -I$(O)/bpf -Ibpf -c $< -o $@
$(O)/bpf/%.skel.h: $(O)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)bpftool gen skeleton $< > $@
$(call obj,$(RECORD_SRC)): $(BPF_SKELS)
$(call obj,$(RECORD_SRC)): ALL_CFLAGS += -I$(O)/bpf -Ibpf

bin/gsrec: $(call obj,$(RECORD_SRC)) $(O)/libgs.a
	@mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS) $(BPF_LIBS)

bin/gsreport: $(call obj,$(REPORT_SRC)) $(O)/libgs.a
	@mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/unit-tests: $(call obj,$(UNIT_SRC)) $(O)/libgs.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/gentrace: $(O)/tests/tools/gentrace.o $(O)/libgs.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/pcln-addr2line: $(O)/tests/tools/pcln-addr2line.o $(O)/libgs.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/pcsp-check: $(O)/tests/tools/pcsp-check.o $(O)/libgs.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/symbench: $(O)/tests/tools/symbench.o $(O)/libgs.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/probe-offsets: $(O)/tests/tools/probe-offsets.o $(O)/libgs.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/golayout: $(O)/tests/tools/golayout.o $(O)/libgs.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

# Go test workloads, built with one named toolchain, $(GO): which Go is
# first on PATH is the machine's business, and a workload built by another
# release than intended tests something else. GOCACHE stays under build/ so
# the build needs no writable home directory; GOTOOLCHAIN=local keeps a newer
# go command from fetching another release; GOENV=off keeps the user's `go
# env -w` settings out (GOFLAGS=-buildvcs=false, say, which Go 1.17 refuses). The workloads are rebuilt when
# $(GO) names another release ($(GS)/go-version records which built them).
# GS is where one release's workloads and Go test tools go: $(O) for $(GO),
# $(O)/go/RELEASE for each release of the matrix below.
GO	?= /usr/lib/go-1.19/bin/go
GS	?= $(O)
GOENV	:= GOENV=off GOCACHE=$(abspath $(O))/gocache GO111MODULE=off GOTOOLCHAIN=local
GO_VERSION_STAMP := $(GS)/go-version
$(GO_VERSION_STAMP): FORCE
	@mkdir -p $(@D)
	@v=$$($(GOENV) $(GO) version 2>/dev/null) || { echo "gsmapper: no Go toolchain at $(GO):" \
		"run scripts/deps.sh, or name one with GO=/path/to/go" >&2; exit 1; }; \
	[ "$$(cat $@ 2>/dev/null)" = "$$v" ] || echo "$$v" >$@
.PHONY: FORCE goworkloads gomatrix
FORCE:
WORKLOADS := $(notdir $(wildcard tests/workloads/*))
# The symbolization tests need the same program in several shapes.
WORKLOAD_BINS := $(addprefix $(GS)/workloads/,$(WORKLOADS)) \
	$(GS)/workloads/symbols-stripped $(GS)/workloads/symbols-pie $(GS)/workloads/gcstats-stripped
goworkloads: $(WORKLOAD_BINS) $(GS)/tests/gosym-addr2line $(GS)/tests/godwarf
workloads: goworkloads $(O)/tests/pcln-addr2line $(O)/tests/golayout $(O)/tests/pcsp-check \
	$(O)/tests/probe-offsets
$(GS)/workloads/symbols-stripped: tests/workloads/symbols/*.go $(GO_VERSION_STAMP)
	@mkdir -p $(@D)
	$(call msg,GO,$@)
	$(Q)cd tests/workloads/symbols && $(GOENV) \
		$(GO) build -ldflags='-s -w' -o $(abspath $@) .
$(GS)/workloads/gcstats-stripped: tests/workloads/gcstats/*.go $(GO_VERSION_STAMP)
	@mkdir -p $(@D)
	$(call msg,GO,$@)
	$(Q)cd tests/workloads/gcstats && $(GOENV) \
		$(GO) build -ldflags='-s -w' -o $(abspath $@) .
$(GS)/workloads/symbols-pie: tests/workloads/symbols/*.go $(GO_VERSION_STAMP)
	@mkdir -p $(@D)
	$(call msg,GO,$@)
	$(Q)cd tests/workloads/symbols && $(GOENV) \
		$(GO) build -buildmode=pie -o $(abspath $@) .
$(GS)/tests/gosym-addr2line: tests/tools/gosym-addr2line/*.go $(GO_VERSION_STAMP)
	@mkdir -p $(@D)
	$(call msg,GO,$@)
	$(Q)cd tests/tools/gosym-addr2line && $(GOENV) \
		$(GO) build -o $(abspath $@) .
$(GS)/tests/godwarf: tests/tools/godwarf/*.go $(GO_VERSION_STAMP)
	@mkdir -p $(@D)
	$(call msg,GO,$@)
	$(Q)cd tests/tools/godwarf && $(GOENV) \
		$(GO) build -o $(abspath $@) .
# releases calls runtime.madvise through a go:linkname, which Go 1.27's
# linker refuses unless told not to check (-checklinkname, 1.23 on).
$(GS)/workloads/releases: tests/workloads/releases/*.go $(GO_VERSION_STAMP)
	@mkdir -p $(@D)
	$(call msg,GO,$@)
	$(Q)cd tests/workloads/releases && \
		if $(GOENV) $(GO) tool link -help 2>&1 | grep -q checklinkname; then lf=-checklinkname=0; fi; \
		$(GOENV) $(GO) build -ldflags="$$lf" -o $(abspath $@) .
$(GS)/workloads/%: tests/workloads/%/*.go $(GO_VERSION_STAMP)
	@mkdir -p $(@D)
	$(call msg,GO,$@)
	$(Q)cd tests/workloads/$* && $(GOENV) \
		$(GO) build -o $(abspath $@) .

# The version matrix: the Go-specific tests run again against workloads
# built by each of these releases. The machine's own Go ($(GO_BOOTSTRAP),
# 1.26.8 here) fetches the others from the Go module proxy the first time
# (GOTOOLCHAIN=RELEASE, about 70 MB each, kept in the module cache);
# $(O)/go/RELEASE/go runs that release. GO_RELEASES= (empty) turns it off.
# GO_OLD_RELEASES, whose runtimes gsmapper reads only where their DWARF
# says (no version table), run the symbol and heap profile tests alone.
GO_BOOTSTRAP ?= /usr/local/go/bin/go
GO_RELEASES ?= go1.20.14 go1.21.13 go1.22.12 go1.23.12 go1.24.13 go1.25.14 go1.26.8 go1.27.3
GO_OLD_RELEASES ?= go1.17.13 go1.18.10
gomatrix:
	$(Q)for r in $(GO_RELEASES) $(GO_OLD_RELEASES); do \
		scripts/gorelease.sh "$(GO_BOOTSTRAP)" $$r $(O)/go/$$r/go || exit 1; \
		$(MAKE) --no-print-directory goworkloads GS=$(O)/go/$$r GO=$(abspath $(O))/go/$$r/go || exit 1; \
	done

# The fuzzer: libFuzzer with ASan and UBSan, over the same sources.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
$(O)/fuzz/fuzz_trace: fuzz/fuzz_trace.c $(FORMAT_SRC) $(COMMON_SRC) $(wildcard format/*.h common/*.h)
	@mkdir -p $(@D)
	$(call msg,FUZZ,$@)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ fuzz/fuzz_trace.c $(FORMAT_SRC) $(COMMON_SRC) $(LIBS)

deps:
	$(Q)scripts/deps.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all $(O)/tests/unit-tests workloads $(O)/fuzz/fuzz_trace gomatrix
	$(Q)O=$(O) GO=$(GO) GO_RELEASES="$(GO_RELEASES)" GO_OLD_RELEASES="$(GO_OLD_RELEASES)" tests/run

demo: deps
	$(Q)$(MAKE) --no-print-directory all workloads
	$(Q)O=$(O) GO=$(GO) scripts/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all workloads $(O)/tests/gentrace $(O)/tests/symbench
	$(Q)O=$(O) GO=$(GO) scripts/bench.sh

FUZZ_SECONDS ?= 0
fuzz: deps
	$(Q)$(MAKE) --no-print-directory $(O)/fuzz/fuzz_trace
	$(Q)mkdir -p $(O)/fuzz/corpus
	$(Q)$(O)/fuzz/fuzz_trace -max_total_time=$(FUZZ_SECONDS) $(O)/fuzz/corpus tests/golden \
		tests/fuzz-regressions tests/fixtures/smaps tests/fuzz-seeds

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 bin/gsrec bin/gsreport $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf $(O) bin out

-include $(shell find $(O) -name '*.d' 2>/dev/null)
