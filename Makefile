# sampletop: one entry point. `make` builds build/sampletop; `make check` runs
# every test; `make demo` profiles the bundled demo; `V=1` shows full commands.
# `make SAN=1` builds an ASan+UBSan variant into build/san/.

OUTPUT ?= build
CLANG ?= clang
CC ?= cc
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
PREFIX ?= /usr/local
DESTDIR ?=
ARCH := x86

PKGS := libbpf libelf libdw ncursesw zlib liblzma jansson libcurl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ifeq ($(SAN),1)
OUTPUT := build/san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

CFLAGS ?= -g -O2
ALL_CFLAGS := $(CFLAGS) $(SAN_FLAGS) -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -D_GNU_SOURCE -I$(OUTPUT) -Iinclude -Iuser $(PKG_CFLAGS)
ALL_LDFLAGS := $(LDFLAGS) $(SAN_FLAGS)
LDLIBS := $(PKG_LIBS) -liberty -lm -lpthread

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

USER_SRCS := $(wildcard user/*.c user/*/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/obj/%.o,$(USER_SRCS))
LIB_OBJS := $(filter-out $(OUTPUT)/obj/cmd/main.o,$(USER_OBJS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
TARGET_SRCS := $(wildcard tests/targets/*.c)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-9s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY: $(BPF_OBJS) $(SKELS)
.PHONY: all deps demo-deps test-deps check unit integration ui fuzz demo bench install clean format lib-objs

all: $(OUTPUT)/sampletop

deps:
	$(Q)scripts/deps.sh

# The demo's report names every frame only with libc's debug symbols.
demo-deps:
	$(Q)scripts/deps.sh --demo

test-deps:
	$(Q)scripts/deps.sh --test

$(OUTPUT) $(OUTPUT)/obj $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c include/sampletop.h $(wildcard bpf/*.h) $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
		-I$(OUTPUT) -Iinclude -Ibpf -c $< -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# Every userspace object waits for the skeletons; headers are tracked by -MMD.
$(OUTPUT)/obj/%.o: user/%.c $(SKELS) | $(OUTPUT)/obj
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/sampletop: $(USER_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/%: tests/unit/%.c tests/unit/tap.h $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $(ALL_LDFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

-include $(USER_OBJS:.o=.d)

unit-bins: $(UNIT_BINS)

# The test runner builds the target programs itself (they need specific flags).
# Every suite runs against build/, then unit and integration suites again
# against the ASan+UBSan build in build/san/ (tests/run.sh).
check: test-deps
	$(Q)$(MAKE) --no-print-directory all unit-bins
	$(Q)$(MAKE) --no-print-directory SAN=1 all unit-bins
	$(Q)tests/run.sh

demo: demo-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

bench: test-deps all
	$(Q)bench/run.sh

fuzz: all
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS)

# The binary, the man page, the agent's systemd unit (its ExecStart names
# SBINDIR) with its environment file (kept when it exists: it holds the
# site's settings), and bash completion. systemd and bash-completion look
# under /usr/local as well as /usr, so the PREFIX default works for both.
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc

install: $(OUTPUT)/sampletop
	install -D -m 0755 $(OUTPUT)/sampletop $(DESTDIR)$(SBINDIR)/sampletop
	install -D -m 0644 man/sampletop.8 $(DESTDIR)$(MANDIR)/man8/sampletop.8
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' packaging/sampletop-agent.service > $(DESTDIR)$(UNITDIR)/sampletop-agent.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/sampletop-agent.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/default/sampletop-agent ] || \
		install -D -m 0644 packaging/sampletop-agent.default $(DESTDIR)$(SYSCONFDIR)/default/sampletop-agent
	install -D -m 0644 packaging/sampletop.bash-completion $(DESTDIR)$(COMPLETIONDIR)/sampletop

format:
	clang-format -i $(USER_SRCS) $(wildcard user/*.h user/*/*.h) bpf/*.c include/*.h

clean:
	rm -rf build

# The objects the unit tests and the benches link with (every user/ object
# but main's), for scripts: a build directory may hold stale objects of
# files since moved or removed, which a find would link too.
lib-objs:
	@echo $(LIB_OBJS)
