/*
 * gsrec - record a process's memory into a gsmapper trace.
 *
 * Attaches to a running process (-p PID) or launches one (-- CMD ARGS) and
 * records until the target exits, SIGINT/SIGTERM, or --duration. One thread
 * drives everything from a poll loop over a signalfd, a timerfd and (when
 * attached) a pidfd, so a signal never interrupts a half-written record.
 *
 * Exit codes are documented in usage() and README.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "common/gobin.h"
#include "common/goelf.h"
#include "common/golayout.h"
#include "common/proc.h"
#include "format/trace.h"
#include "affinity.h"
#include "cpurec.h"
#include "faultrec.h"
#include "gorec.h"
#include "heaprof.h"
#include "memrec.h"
#include "objects.h"

#define GSMAPPER_VERSION "0.1.0"

/* Exit codes of an attach-mode recording (launch mode: see below). */
enum {
	EX_OK = 0, EX_INTERNAL = 1, EX_USAGE = 2, EX_TARGET = 3, EX_PERM = 4,
	EX_OUTPUT = 5,
};
/* Launch mode exits with the command's status; its own failures use the
 * codes of timeout(1) and env(1). */
enum { EX_LAUNCH_FAIL = 125, EX_NOEXEC = 126, EX_NOTFOUND = 127 };

struct opts {
	const char *output;
	double duration_s;
	uint32_t interval_ms, smaps_min_ms, smaps_max_ms, flush_ms;
	double budget_pct;
	unsigned freq, ringbuf_kb, fault_period, census_ms, census_top, go_rate;
	int record_cmdline, quiet, no_bpf, release_syscalls, no_heap_profile;
	uint64_t heap_rate;
	pid_t pid;
	char **cmd;
};

static const char *prog = "gsrec";

struct objscan {
	struct objects objs;
	char exe[PATH_MAX];
	int told;
	struct stacks *stacks;		/* gets the executable ranges */
	struct gorec *go;		/* gets the load bias */
	struct faultrec *flt;		/* gets the C library, once it is open */
	int flt_failed;
};

static int write_message(struct gs_writer *w, unsigned level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int scan_objects(void *ctx, const struct gs_smaps *s)
{
	struct objscan *os = ctx;

	if (os->stacks)
		stacks_set_text(os->stacks, s);
	if (os->go)
		gorec_set_maps(os->go, s);
	if (objects_scan(&os->objs, s, os->exe) < 0)
		return -1;
	if (os->flt && !os->flt_failed) {
		char err[256];

		if (faultrec_maps(os->flt, s, err, sizeof(err)) < 0) {
			os->flt_failed = 1;
			fprintf(stderr, "gsrec: warning: releases through the C library not recorded: %s\n",
				err);
			return write_message(os->objs.w, GS_WARNING,
					     "releases through the C library not recorded: %s", err);
		}
	}
	/* Say once what of the runtime's layout could not be found, and go on. */
	if (os->objs.layout_note[0] && !os->told) {
		os->told = 1;
		fprintf(stderr, "gsrec: warning: runtime layout: %s\n", os->objs.layout_note);
		return write_message(os->objs.w, GS_WARNING, "runtime layout: %s",
				     os->objs.layout_note);
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: gsrec [options] -p PID\n"
"       gsrec [options] -- COMMAND [ARGS...]\n"
"\n"
"Record a process's memory (statm, smaps, cgroup) into a gsmapper trace.\n"
"\n"
"  -p, --pid PID          attach to a running process\n"
"  -o, --output FILE      trace file (default gsmapper.trace); it takes its place\n"
"                         once recording has begun, an existing file there\n"
"                         becoming FILE.old; a run that fails before leaves\n"
"                         FILE as it was\n"
"  -d, --duration SECS    stop after SECS seconds (a launched command is then\n"
"                         sent SIGTERM)\n"
"  -i, --interval MS      statm and cgroup sampling interval (default 10)\n"
"  -b, --cpu-budget PCT   gsrec's CPU budget, percent of one core (default 2);\n"
"                         smaps reads are paced to stay within it\n"
"      --smaps-min-ms MS  never read smaps more often than this (default 50)\n"
"      --smaps-max-ms MS  while RSS moves (by over 1/32 since the last\n"
"                         per-mapping read), read per-mapping smaps at least\n"
"                         this often, past the budget if need be; the cost is\n"
"                         paid back from it (default 2000; 0: keep strictly\n"
"                         to the budget)\n"
"      --flush-ms MS      write a compressed chunk at least this often\n"
"                         (default 1000: a killed gsrec loses at most that)\n"
"  -F, --freq HZ          on-CPU stack samples per second (default 49)\n"
"      --ringbuf-kb KB    eBPF ring buffer size (default 4096, a power of two)\n"
"      --fault-period N   record every Nth page fault (default 1: every one)\n"
"      --releases HOOK    where munmap, madvise, mremap and brk are seen: probes\n"
"                         (default: uprobes on a Go target's functions that make\n"
"                         them and on its C library's; costs nothing outside the\n"
"                         target, misses raw system calls from other code) or\n"
"                         syscalls (the calls' tracepoints: sees every call, and\n"
"                         slows every system call on the machine by about 60 ns\n"
"                         while recording); targets that are not Go 1.17-1.27\n"
"                         programs get syscalls\n"
"      --census-ms MS     walk all goroutines this often (default 1000; 0: never);\n"
"                         a census costing more than 1%% of a core waits longer\n"
"      --census-top N     unwind the N goroutines with the largest stacks in each\n"
"                         census (default 16, at most 64)\n"
"      --go-rate N        goroutine creations, exits and stack copies to record\n"
"                         a second on average (default 1000; 0: all); past\n"
"                         that their probes are off for the rest of a 10 s\n"
"                         period, and the trace marks the pause\n"
"      --no-heap-profile  do not read the Go runtime's heap profile (read by\n"
"                         default after each GC cycle, within 1%% of a core)\n"
"      --heap-rate BYTES  set runtime.MemProfileRate in the target to BYTES (one\n"
"                         sampled allocation per BYTES allocated), for programs\n"
"                         that keep no heap profile (rate 0: they link neither\n"
"                         runtime/pprof nor net/http/pprof). This is the one\n"
"                         write gsrec makes to a target's memory, and only\n"
"                         when asked: a launched command is set at its start,\n"
"                         before its own code runs; an attached one from then\n"
"                         on (earlier allocations are not in the profile)\n"
"      --no-bpf           record /proc data only, no eBPF streams\n"
"      --record-cmdline   store the target's command line in the trace\n"
"  -q, --quiet            no status line and no summary line\n"
"  -h, --help             this help\n"
"      --version          print the version\n"
"\n"
"Exit status when attaching: 0 recorded; 1 internal error; 2 bad usage;\n"
"3 no such process, or it exited before recording began; 4 permission denied;\n"
"5 the trace could not be written (what was written stays readable).\n"
"When launching: the command's exit status (128+N if killed by signal N);\n"
"125 gsrec failed, 126 the command could not be run, 127 it was not found.\n");
}

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_SMAPS_MIN = 256, O_SMAPS_MAX, O_FLUSH, O_CMDLINE, O_VERSION, O_RINGBUF, O_NOBPF, O_FPERIOD,
	       O_CENSUS_MS, O_CENSUS_TOP, O_GO_RATE, O_RELEASES, O_NO_HEAPPROF, O_HEAP_RATE };
	static const struct option lopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "cpu-budget", required_argument, NULL, 'b' },
		{ "smaps-min-ms", required_argument, NULL, O_SMAPS_MIN },
		{ "smaps-max-ms", required_argument, NULL, O_SMAPS_MAX },
		{ "flush-ms", required_argument, NULL, O_FLUSH },
		{ "record-cmdline", no_argument, NULL, O_CMDLINE },
		{ "freq", required_argument, NULL, 'F' },
		{ "ringbuf-kb", required_argument, NULL, O_RINGBUF },
		{ "no-bpf", no_argument, NULL, O_NOBPF },
		{ "fault-period", required_argument, NULL, O_FPERIOD },
		{ "census-ms", required_argument, NULL, O_CENSUS_MS },
		{ "census-top", required_argument, NULL, O_CENSUS_TOP },
		{ "go-rate", required_argument, NULL, O_GO_RATE },
		{ "no-heap-profile", no_argument, NULL, O_NO_HEAPPROF },
		{ "heap-rate", required_argument, NULL, O_HEAP_RATE },
		{ "releases", required_argument, NULL, O_RELEASES },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ 0 }
	};
	double v;
	int c;

	*o = (struct opts){ .output = "gsmapper.trace", .interval_ms = 10,
			    .smaps_min_ms = 50, .smaps_max_ms = 2000, .flush_ms = 1000, .budget_pct = 2, .freq = 49,
			    .ringbuf_kb = 4096, .fault_period = 1, .census_ms = 1000,
			    .census_top = 16, .go_rate = 1000 };
	while ((c = getopt_long(argc, argv, "+p:o:d:i:b:F:qh", lopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_num(optarg, 1, INT_MAX, &v) || v != (pid_t)v) {
				msg("invalid pid '%s': give a process id, e.g. -p $(pidof caddy)",
				    optarg);
				return -1;
			}
			o->pid = (pid_t)v;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'd':
			if (parse_num(optarg, 0.001, 1e9, &o->duration_s)) {
				msg("invalid duration '%s': give seconds, e.g. -d 30", optarg);
				return -1;
			}
			break;
		case 'i':
			if (parse_num(optarg, 1, 60000, &v)) {
				msg("invalid interval '%s': give milliseconds from 1 to 60000", optarg);
				return -1;
			}
			o->interval_ms = (uint32_t)v;
			break;
		case 'b':
			if (parse_num(optarg, 0.01, 100, &o->budget_pct)) {
				msg("invalid CPU budget '%s': give a percentage from 0.01 to 100",
				    optarg);
				return -1;
			}
			break;
		case O_SMAPS_MIN:
			if (parse_num(optarg, 1, 3600000, &v)) {
				msg("invalid --smaps-min-ms '%s'", optarg);
				return -1;
			}
			o->smaps_min_ms = (uint32_t)v;
			break;
		case O_SMAPS_MAX:
			if (parse_num(optarg, 0, 3600000, &v) || (v > 0 && v < 100)) {
				msg("invalid --smaps-max-ms '%s': give milliseconds from 100 to 3600000, "
				    "or 0 to keep strictly to the budget", optarg);
				return -1;
			}
			o->smaps_max_ms = (uint32_t)v;
			break;
		case O_FLUSH:
			if (parse_num(optarg, 10, 600000, &v)) {
				msg("invalid --flush-ms '%s': give milliseconds from 10 to 600000",
				    optarg);
				return -1;
			}
			o->flush_ms = (uint32_t)v;
			break;
		case O_CMDLINE:
			o->record_cmdline = 1;
			break;
		case 'F':
			if (parse_num(optarg, 1, 10000, &v)) {
				msg("invalid frequency '%s': give samples per second from 1 to 10000",
				    optarg);
				return -1;
			}
			o->freq = (unsigned)v;
			break;
		case O_RINGBUF:
			if (parse_num(optarg, 4, 1 << 20, &v) || ((unsigned)v & ((unsigned)v - 1))) {
				msg("invalid --ringbuf-kb '%s': give a power of two from 4 to 1048576",
				    optarg);
				return -1;
			}
			o->ringbuf_kb = (unsigned)v;
			break;
		case O_NOBPF:
			o->no_bpf = 1;
			break;
		case O_NO_HEAPPROF:
			o->no_heap_profile = 1;
			break;
		case O_HEAP_RATE:
			if (parse_num(optarg, 1, INT32_MAX, &v) || v != (double)(uint64_t)v) {
				msg("invalid --heap-rate '%s': give bytes from 1 (every allocation) to "
				    "2147483647, e.g. 524288, the runtime's default", optarg);
				return -1;
			}
			o->heap_rate = (uint64_t)v;
			break;
		case O_RELEASES:
			if (strcmp(optarg, "probes") && strcmp(optarg, "syscalls")) {
				msg("invalid --releases '%s': give probes or syscalls", optarg);
				return -1;
			}
			o->release_syscalls = !strcmp(optarg, "syscalls");
			break;
		case O_FPERIOD:
			if (parse_num(optarg, 1, 1e9, &v)) {
				msg("invalid --fault-period '%s': give a count, 1 for every fault", optarg);
				return -1;
			}
			o->fault_period = (unsigned)v;
			break;
		case O_CENSUS_MS:
			if (parse_num(optarg, 0, 3600000, &v) || (v > 0 && v < 10)) {
				msg("invalid --census-ms '%s': give milliseconds from 10 to 3600000, "
				    "or 0 for no census", optarg);
				return -1;
			}
			o->census_ms = (unsigned)v;
			break;
		case O_CENSUS_TOP:
			if (parse_num(optarg, 0, 64, &v)) {
				msg("invalid --census-top '%s': give a count from 0 to 64", optarg);
				return -1;
			}
			o->census_top = (unsigned)v;
			break;
		case O_GO_RATE:
			if (parse_num(optarg, 0, 1e7, &v)) {
				msg("invalid --go-rate '%s': give events per second up to 10000000, "
				    "or 0 for no limit", optarg);
				return -1;
			}
			o->go_rate = (unsigned)v;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			usage(stdout);
			exit(EX_OK);
		case O_VERSION:
			printf("gsrec %s (trace format %d.%d)\n", GSMAPPER_VERSION,
			       GS_VERSION_MAJOR, GS_VERSION_MINOR);
			exit(EX_OK);
		default:
			fprintf(stderr, "Try 'gsrec --help'.\n");
			return -1;
		}
	}
	if (optind < argc)
		o->cmd = argv + optind;
	if (!o->pid == !o->cmd) {
		msg(o->pid ? "give either -p PID or a command after --, not both"
			   : "nothing to record: give -p PID or -- COMMAND [ARGS]");
		fprintf(stderr, "Try 'gsrec --help'.\n");
		return -1;
	}
	if (o->heap_rate && o->no_heap_profile) {
		msg("--heap-rate turns the heap profile on, --no-heap-profile leaves it unread: "
		    "give one");
		return -1;
	}
	if (o->heap_rate && o->cmd && o->no_bpf) {
		msg("--heap-rate on a launched command needs the eBPF probes, which stop it at its "
		    "start for the write: drop --no-bpf, or start it and attach with -p");
		return -1;
	}
	return 0;
}

/* ---- the target ---- */

static char **read_cmdline(pid_t pid, uint32_t *argc, struct gs_file *f)
{
	char path[64];
	char **argv;
	uint32_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (gs_file_read_path(f, path) < 0)
		return NULL;
	for (size_t i = 0; i < f->len; i++)
		n += f->buf[i] == 0;
	argv = calloc(n + 1, sizeof(char *));
	if (!argv)
		return NULL;
	n = 0;
	for (size_t i = 0; i < f->len; i += strlen(f->buf + i) + 1)
		argv[n++] = f->buf + i;
	*argc = n;
	return argv;
}

/* Write TARGET; *is_go tells whether the executable is a Go program. */
static int write_target(struct gs_writer *w, const struct opts *o, pid_t pid,
			int launched, int *is_go, char *why, size_t whylen)
{
	struct gs_record r = { .type = GS_REC_TARGET };
	struct gs_rec_target *t = &r.u.target;
	char path[64], exe[PATH_MAX] = "", comm[64] = "";
	struct gs_exe_info info;
	struct gs_file stat = { 0 }, cmdline = { 0 };
	struct utsname un;
	struct stat st;
	ssize_t n;
	int fd, ret;

	memset(&info, 0, sizeof(info));
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0)
		exe[n] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0) {
			t->exe_dev = st.st_dev;
			t->exe_inode = st.st_ino;
		}
		gs_exe_info_read(fd, &info);
		close(fd);
	} else {
		snprintf(info.err, sizeof(info.err), "cannot open %s: %s", path, strerror(errno));
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (gs_file_read_path(&stat, path) == 0)
		gs_parse_stat(stat.buf, comm, sizeof(comm), &t->start_ticks, NULL);
	uname(&un);

	t->pid = (uint32_t)pid;
	t->flags = (launched ? GS_TARGET_LAUNCHED : 0) | (info.is_go ? GS_TARGET_GO : 0);
	t->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	t->clk_tck = (uint32_t)sysconf(_SC_CLK_TCK);
	t->exe_path = exe;
	t->build_id = info.build_id;
	t->build_id_len = info.build_id_len;
	t->go_build_id = info.go_build_id;
	t->go_version = info.go_version;
	t->go_module = info.go_module;
	t->comm = comm;
	t->host = un.nodename;
	t->kernel = un.release;
	t->machine = un.machine;
	if (o->record_cmdline) {
		t->argv = (const char *const *)read_cmdline(pid, &t->argc, &cmdline);
		if (t->argv)
			t->flags |= GS_TARGET_CMDLINE;
	}
	ret = gs_writer_add(w, &r);
	if (ret == 0 && info.go_version[0] && info.go_version_source &&
	    strcmp(info.go_version_source, "buildinfo"))
		ret = write_message(w, GS_INFO, "Go version %s from runtime.buildVersion, found "
				    "through %s: the executable has no .go.buildinfo",
				    info.go_version, !strcmp(info.go_version_source, "code") ?
				    "runtime.schedinit's code" : ".symtab");
	*is_go = info.is_go;
	if (!info.is_go)
		snprintf(why, whylen, "%s", info.is_elf ? "no .go.buildinfo or .gopclntab section"
							: info.err[0] ? info.err : "not ELF");
	else if (!info.go_version[0])
		snprintf(why, whylen, "%s", info.err);
	free((void *)t->argv);
	gs_file_free(&stat);
	gs_file_free(&cmdline);
	return ret;
}

/*
 * The clocks at one moment, for turning the probes' monotonic times into
 * wall times. Two reads are never simultaneous, and a thread descheduled
 * between them (a busy machine) would pair times milliseconds apart and
 * shift every wall time computed from the pair. So the other two reads are
 * bracketed by two monotonic reads, and the tightest bracket of a few tries
 * is kept, its middle standing for the moment: off by at most half its
 * width, which is well under a microsecond unless every try was preempted.
 */
static int write_clock(struct gs_writer *w)
{
	struct gs_record r = { .type = GS_REC_CLOCK };
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 16 && best > 1000; i++) {
		uint64_t m1 = gs_now_ns(CLOCK_MONOTONIC);
		uint64_t real = gs_now_ns(CLOCK_REALTIME);
		uint64_t boot = gs_now_ns(CLOCK_BOOTTIME);
		uint64_t m2 = gs_now_ns(CLOCK_MONOTONIC);

		if (m2 - m1 < best) {
			best = m2 - m1;
			r.u.clock.mono_ns = m1 + best / 2;
			r.u.clock.real_ns = real;
			r.u.clock.boot_ns = boot;
		}
	}
	return gs_writer_add(w, &r);
}

static int write_message(struct gs_writer *w, unsigned level, const char *fmt, ...)
{
	struct gs_record r = { .type = GS_REC_MESSAGE };
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	r.u.message = (struct gs_rec_message){ gs_now_ns(CLOCK_MONOTONIC), level, text };
	return gs_writer_add(w, &r);
}

/* ---- launching ---- */

/*
 * Fork the command stopped before exec (waiting on a pipe), so recording
 * can be set up first, as perf does; exec errors come back on a CLOEXEC pipe.
 */
static pid_t launch(char **cmd, const sigset_t *oldmask, int *go_fd, int *err_fd)
{
	int go[2], er[2];
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char c;
		int e;

		close(go[1]);
		close(er[0]);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		if (read(go[0], &c, 1) != 1)
			_exit(EX_LAUNCH_FAIL);	/* gsrec went away */
		execvp(cmd[0], cmd);
		e = errno;
		if (write(er[1], &e, sizeof(e)) < 0)
			_exit(EX_LAUNCH_FAIL);
		_exit(e == ENOENT ? EX_NOTFOUND : EX_NOEXEC);
	}
	close(go[0]);
	close(er[1]);
	*go_fd = go[1];
	*err_fd = er[0];
	return pid;
}

/* ---- status line ---- */

static void human(char *buf, size_t n, double bytes)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (bytes >= 1024 && i < 4) {
		bytes /= 1024;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", bytes, u[i]);
}

static void status(const struct memrec *m, struct gs_writer *w, double elapsed,
		   long page, int final)
{
	char rss[32], pss[32], tb[32];

	human(rss, sizeof(rss), (double)m->last_rss_pages * (double)page);
	human(pss, sizeof(pss), (double)m->last_pss_kb * 1024);
	human(tb, sizeof(tb), (double)gs_writer_file_bytes(w));
	fprintf(stderr, "\r%s: %.1f s, %" PRIu64 " samples, %" PRIu64 " smaps reads, RSS %s, "
		"Pss %s, trace %s, lost %" PRIu64 "\033[K%s", prog, elapsed, m->statm_samples,
		m->smaps_reads + m->rollup_reads, rss, pss, tb, m->lost, final ? "\n" : "");
}

/* ---- eBPF streams ---- */

struct bpfstate {
	struct cpurec cpu;
	struct faultrec flt;
	struct gorec go;		/* its /proc half works without eBPF */
	struct stacks stacks;
	int have_cpu, have_flt, have_go;
	char cpu_err[256], flt_err[256], go_err[256], go_why[256];
};

/*
 * Load the Go executable at path for the goroutine and GC streams; the
 * other streams take their goroutine offsets from it.
 */
static void go_init(struct bpfstate *b, pid_t pid, const struct opts *o, const char *path,
		    int wait_exec, struct gs_writer *w)
{
	struct gorec_opts go = { .ringbuf_kb = o->ringbuf_kb, .wait_exec = wait_exec,
				 .census_ms = o->census_ms, .census_top = o->census_top,
				 .heap_ms = 100, .census_budget = 0.01,
				 .go_rate = o->go_rate, .heap_profile = !o->no_heap_profile,
				 .heap_rate = o->heap_rate };

	b->stacks.w = w;
	gorec_init(&b->go, pid, path, &go, &b->stacks, w, b->go_why, sizeof(b->go_why));
}

static int find_go_fns(const void *ctx, const char *const *names, int n, uint64_t *off, int *have)
{
	return gorec_func_offsets(ctx, names, n, off, have);
}

static int find_go_calls(const void *ctx, const char *callee, uint64_t *off, int max)
{
	return gorec_call_sites(ctx, callee, off, max);
}

/*
 * Open the fault and CPU streams for pid. wait_exec: pid is a forked child
 * about to exec the command (launch mode), whose first events must not be
 * missed. Failures are kept in the state, to be said after TARGET.
 */
static void bpf_start(struct bpfstate *b, pid_t pid, const struct opts *o, int wait_exec,
		      struct gs_writer *w)
{
	int64_t goid = -1, g_m = -1, m_curg = -1;

	if (b->go.have_bin) {
		goid = b->go.lay.v[GS_G_GOID];
		g_m = b->go.lay.v[GS_G_M];
		m_curg = b->go.lay.v[GS_M_CURG];
	}
	struct faultrec_opts fo = { o->fault_period, o->ringbuf_kb, goid, g_m, m_curg, wait_exec,
				    NULL, find_go_fns, find_go_calls, &b->go };

	if (b->go.have_bin && !o->release_syscalls)
		fo.exe = b->go.exe;
	struct cpurec_opts co = { o->freq, o->ringbuf_kb, goid, g_m, m_curg, wait_exec };

	b->stacks.w = w;
	libbpf_set_print(NULL);	/* our messages say what failed */
	b->have_flt = faultrec_open(&b->flt, pid, &fo, &b->stacks, w, b->flt_err,
				    sizeof(b->flt_err)) == 0;
	b->have_cpu = cpurec_open(&b->cpu, pid, &co, &b->stacks, w, b->cpu_err,
				  sizeof(b->cpu_err)) == 0;
	b->have_go = b->go.have_bin && gorec_attach(&b->go, b->go_err, sizeof(b->go_err)) == 0;
}

/* Say what could not be started, on stderr and in the trace. */
static int bpf_report(struct bpfstate *b, struct gs_writer *w)
{
	if (!b->have_flt && !b->have_cpu) {
		/* one cause (no permission, no BPF), said once */
		msg("warning: eBPF streams not recorded (page faults, CPU samples, goroutines and "
		    "GC): %s; recording /proc data only (--no-bpf says this is intended)",
		    b->cpu_err);
		if (write_message(w, GS_WARNING, "eBPF streams not recorded: %s", b->cpu_err) < 0)
			return -1;
		if (strcmp(b->flt_err, b->cpu_err) &&
		    write_message(w, GS_WARNING, "page faults not recorded: %s", b->flt_err) < 0)
			return -1;
		return 0;
	}
	if (!b->have_flt) {
		msg("warning: page faults not recorded: %s", b->flt_err);
		if (write_message(w, GS_WARNING, "page faults not recorded: %s", b->flt_err) < 0)
			return -1;
	}
	if (!b->have_cpu) {
		msg("warning: eBPF streams not recorded: %s; recording /proc data only "
		    "(--no-bpf says this is intended)", b->cpu_err);
		if (write_message(w, GS_WARNING, "eBPF streams not recorded: %s", b->cpu_err) < 0)
			return -1;
	} else if (b->go.have_bin && !b->have_go) {
		msg("warning: goroutine and GC events not recorded: %s", b->go_err);
		if (write_message(w, GS_WARNING, "goroutine and GC events not recorded: %s",
				  b->go_err) < 0)
			return -1;
	} else if (b->have_go) {
		if (write_message(w, GS_INFO, "goroutine and GC probes: %s",
				  b->go.multi ? "uprobe_multi links"
					      : "perf-event uprobes (this kernel has no uprobe_multi)") < 0)
			return -1;
	}
	if (b->have_flt && b->flt.libc_err[0]) {
		msg("warning: releases through the C library not recorded: %s", b->flt.libc_err);
		if (write_message(w, GS_WARNING, "releases through the C library not recorded: %s",
				  b->flt.libc_err) < 0)
			return -1;
	}
	if (!b->have_flt)
		return 0;
	if (!b->flt.probes)
		return write_message(w, GS_INFO, "releases: the system calls' tracepoints");
	char at[32] = "its entry";

	if (b->flt.madvise_calls)
		snprintf(at, sizeof(at), "its %d calls", b->flt.madvise_calls);
	return write_message(w, GS_INFO, "releases: uprobes on the target's functions that "
			     "release memory (runtime.madvise at %s)", at);
}

/* --heap-rate where the rate cannot be written: why. */
static void heap_rate_refused(const struct bpfstate *b, const char *exe)
{
	if (!b->go.have_bin)
		msg("--heap-rate: %s is not a Go program whose runtime gsrec can read (%s); "
		    "drop --heap-rate", exe, b->go_why[0] ? b->go_why : "no Go runtime found");
	else
		msg("--heap-rate: %s; drop --heap-rate", b->go.hp_why);
}

/* Say what of the runtime cannot be read (memstats, allgs). */
static int go_report(struct bpfstate *b, struct gs_writer *w)
{
	if (b->go.have_bin && b->go.hp_why[0]) {
		msg("warning: %s", b->go.hp_why);
		if (write_message(w, GS_WARNING, "%s", b->go.hp_why) < 0)
			return -1;
	}
	if (!b->go_why[0])
		return 0;
	if (b->go.have_bin)
		msg("warning: %s", b->go_why);
	return write_message(w, b->go.have_bin ? GS_WARNING : GS_INFO, "goroutines and GC: %s",
			     b->go_why);
}

/* Where execvp would find cmd: a path with a slash as it is, else $PATH. */
static int resolve_command(const char *cmd, char *out, size_t n)
{
	const char *path = getenv("PATH");

	if (strchr(cmd, '/')) {
		snprintf(out, n, "%s", cmd);
		return 0;
	}
	for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);

		snprintf(out, n, "%.*s/%s", (int)len, len ? p : ".", cmd);
		if (access(out, X_OK) == 0)
			return 0;
		p += len + (colon ? 1 : 0);
	}
	return -1;
}

/* ---- main ---- */

/*
 * The trace is written under a temporary name beside -o and takes its place
 * (an existing file there becoming FILE.old) only once recording has begun:
 * the first sample of an attached process, or a launched command's exec.
 */
static int commit_trace(struct gs_writer *w, const char *output)
{
	if (gs_writer_commit(w, ".old") == 0)
		return 0;
	msg("cannot put the trace in place at %s (an existing file there is kept as "
	    "%s.old): %s", output, output, strerror(errno));
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct memrec m = { .statm_fd = -1 };
	static struct objscan os;
	static struct bpfstate bs;
	int bpf_started = 0, go_started = 0;
	struct gs_writer *w = NULL;
	sigset_t mask, oldmask;
	int sfd = -1, tfd = -1, pidfd = -1, go_fd = -1, err_fd = -1;
	pid_t pid = 0;
	int launched, is_go = 0, rc = EX_INTERNAL, stop_reason = 0;
	int child_status = -1, signals = 0, committed = 0;
	uint64_t t0, deadline = 0, last_status = 0, last_clock, last_lost = 0, last_aff = 0;
	struct affinity aff;
	char affmsg[600];
	char err[256], why[200] = "";
	long page = sysconf(_SC_PAGESIZE);
	int tty;

	if (parse_args(argc, argv, &o) < 0)
		return o.cmd ? EX_LAUNCH_FAIL : EX_USAGE;
	launched = o.cmd != NULL;
	tty = isatty(STDERR_FILENO) && !o.quiet;
#define FAIL(code) do { rc = launched ? (int)EX_LAUNCH_FAIL : (int)(code); goto out; } while (0)

	/* Signals arrive through sfd; the launched command gets the old mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	if (!launched) {
		if (kill(o.pid, 0) < 0 && errno == ESRCH) {
			msg("no process with pid %d: check the pid (pidof, pgrep)", (int)o.pid);
			FAIL(EX_TARGET);
		}
	}
	struct gs_writer_opts wo = { .flush_ms = o.flush_ms, .staged = 1 };

	w = gs_writer_open(o.output, -1, &wo);
	if (!w) {
		msg("cannot create the trace %s: %s; choose another path with -o", o.output,
		    strerror(errno));
		FAIL(EX_OUTPUT);
	}

	if (launched) {
		o.pid = launch(o.cmd, &oldmask, &go_fd, &err_fd);
		if (o.pid < 0) {
			msg("cannot start %s: %s", o.cmd[0], strerror(errno));
			FAIL(EX_LAUNCH_FAIL);
		}
		int e = 0;
		char exe[PATH_MAX];

		/* Attach before it execs, so its first page faults are seen too. */
		if (resolve_command(o.cmd[0], exe, sizeof(exe)) == 0) {
			go_init(&bs, o.pid, &o, exe, 1, w);
			go_started = 1;
			if (o.heap_rate && !bs.go.hp) {
				heap_rate_refused(&bs, exe);
				FAIL(EX_USAGE);
			}
			if (!o.no_bpf) {
				bpf_start(&bs, o.pid, &o, 1, w);
				bpf_started = 1;
			}
		}
		/* Let it exec, then learn whether exec worked: EOF means it did. */
		if (write(go_fd, "g", 1) != 1 || read(err_fd, &e, sizeof(e)) == sizeof(e)) {
			waitpid(o.pid, NULL, 0);
			msg("cannot run %s: %s", o.cmd[0], strerror(e ? e : EPIPE));
			rc = e == ENOENT ? EX_NOTFOUND : EX_NOEXEC;
			gs_writer_close(w);	/* never committed: removed */
			w = NULL;
			goto out;
		}
		/* The command runs: its recording has begun, whatever follows. */
		if (commit_trace(w, o.output) < 0)
			goto write_error;
		committed = 1;
	}
	pid = o.pid;

	struct memrec_opts mo = { .cpu_budget = o.budget_pct / 100.0,
				  .smaps_min_ms = o.smaps_min_ms, .interval_ms = o.interval_ms,
				  .smaps_max_ms = o.smaps_max_ms,
				  .launched = launched };

	if (memrec_open(&m, pid, w, &mo, err, sizeof(err)) < 0) {
		if (errno == ESRCH)
			msg("process %d exited before recording began", (int)pid);
		else if (errno == ENODATA)
			msg("%s", err);
		else if (errno == EACCES || errno == EPERM)
			msg("%s: run gsrec as root, or as the target's user with ptrace "
			    "access (see kernel.yama.ptrace_scope)", err);
		else
			msg("%s", err);
		FAIL(errno == ESRCH || errno == ENODATA ? EX_TARGET : errno == EACCES || errno == EPERM ? EX_PERM
										  : EX_INTERNAL);
	}
	if (!launched)
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	{
		char link[64];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
		n = readlink(link, os.exe, sizeof(os.exe) - 1);
		os.exe[n > 0 ? n : 0] = 0;
	}
	objects_init(&os.objs, pid, w);
	os.stacks = &bs.stacks;
	os.go = &bs.go;
	if (!go_started) {
		char exe[64];

		snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
		go_init(&bs, pid, &o, exe, 0, w);
		if (o.heap_rate && !bs.go.hp) {
			heap_rate_refused(&bs, exe);
			FAIL(EX_USAGE);
		}
	}
	m.on_maps = scan_objects;
	m.on_maps_ctx = &os;

	if (write_target(w, &o, pid, launched, &is_go, why, sizeof(why)) < 0 ||
	    write_clock(w) < 0)
		goto write_error;
	if (!is_go) {
		msg("warning: pid %d is not a Go program (%s): recording its /proc memory "
		    "anyway; Go classes (heap, runtime) will not apply", (int)pid, why);
		if (write_message(w, GS_WARNING, "not a Go program (%s)", why) < 0)
			goto write_error;
	} else if (why[0]) {
		msg("warning: Go version unknown: %s", why);
		if (write_message(w, GS_WARNING, "Go version unknown: %s", why) < 0)
			goto write_error;
	}
	if (!m.cg.version && write_message(w, GS_INFO, "no memory cgroup found for pid %d",
					   (int)pid) < 0)
		goto write_error;
	affinity_init(&aff, pid);
	t0 = gs_now_ns(CLOCK_MONOTONIC);
	last_clock = t0;
	if (o.duration_s > 0)
		deadline = t0 + (uint64_t)(o.duration_s * 1e9);
	/* Objects first: they give the goroutine offsets the sampler needs. */
	if (memrec_maps_now(&m, t0) < 0)
		goto write_error;
	if (o.no_bpf) {
		if (write_message(w, GS_INFO, "eBPF streams not recorded: --no-bpf") < 0)
			goto write_error;
	} else {
		if (!bpf_started)
			bpf_start(&bs, pid, &o, 0, w);
		if (bpf_report(&bs, w) < 0)
			goto write_error;
		os.flt = bs.have_flt ? &bs.flt : NULL;
	}
	if (go_report(&bs, w) < 0)
		goto write_error;
	int first = memrec_tick(&m, gs_now_ns(CLOCK_MONOTONIC));

	if (first == 0)
		first = memrec_smaps_now(&m, gs_now_ns(CLOCK_MONOTONIC), 1);
	if (first < 0)
		goto write_error;
	if (first == 1 && !launched) {
		msg("process %d exited before recording began", (int)pid);
		rc = EX_TARGET;
		goto out;	/* the trace is never committed: -o is left as it was */
	}
	if (!committed && commit_trace(w, o.output) < 0)
		goto write_error;
	committed = 1;

	/* The budget counts from here: setting up was a one-time cost. */
	memrec_budget_start(&m, gs_now_ns(CLOCK_MONOTONIC));
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	struct itimerspec its = { { o.interval_ms / 1000, (long)(o.interval_ms % 1000) * 1000000 },
				  { o.interval_ms / 1000, (long)(o.interval_ms % 1000) * 1000000 } };

	if (tfd < 0 || sfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0) {
		msg("cannot set up timers: %s", strerror(errno));
		FAIL(EX_INTERNAL);
	}

	while (!stop_reason) {
		struct pollfd pfd[6] = { { sfd, POLLIN, 0 }, { tfd, POLLIN, 0 },
					 { bs.have_cpu ? cpurec_fd(&bs.cpu) : -1, POLLIN, 0 },
					 { pidfd, POLLIN, 0 },
					 { bs.have_flt ? faultrec_fd(&bs.flt) : -1, POLLIN, 0 },
					 { bs.have_go ? gorec_fd(&bs.go) : -1, POLLIN, 0 } };

		if (poll(pfd, 6, -1) < 0 && errno != EINTR) {
			msg("poll: %s", strerror(errno));
			FAIL(EX_INTERNAL);
		}
		uint64_t now = gs_now_ns(CLOCK_MONOTONIC);
		struct signalfd_siginfo si;

		int chld = 0;

		while ((pfd[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGCHLD) {
				chld = 1;	/* reaped below */
				continue;
			}
			signals++;
			if (launched && signals == 1) {
				/* Pass it on and record until the command exits; a second
				 * signal stops at once. */
				kill(pid, (int)si.ssi_signo);
			} else {
				stop_reason = GS_END_SIGNAL;
			}
		}
		if (launched && chld) {
			int st;

			if (waitpid(pid, &st, WNOHANG) == pid) {
				child_status = st;
				stop_reason = GS_END_TARGET_EXIT;
			}
		}
		if (pidfd >= 0 && (pfd[3].revents & POLLIN))
			stop_reason = GS_END_TARGET_EXIT;
		/* eBPF events cost what the target's activity makes them cost:
		 * charged to the budget up to a share (memrec_events_cpu) */
		if (bs.have_cpu || bs.have_flt || bs.have_go) {	/* drained every tick, and when they call */
			uint64_t c0 = gs_now_ns(CLOCK_THREAD_CPUTIME_ID);

			if ((bs.have_cpu && cpurec_poll(&bs.cpu) < 0) || (bs.have_flt && faultrec_poll(&bs.flt) < 0) ||
			    (bs.have_go && gorec_poll(&bs.go) < 0))
				goto write_error;
			memrec_events_cpu(&m, gs_now_ns(CLOCK_THREAD_CPUTIME_ID) - c0);
		}
		if (pfd[1].revents & POLLIN) {
			uint64_t ticks = 0;

			if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks) && ticks > 1) {
				struct gs_record r = { .type = GS_REC_LOST };

				r.u.lost = (struct gs_rec_lost){ now, GS_STREAM_STATM, ticks - 1 };
				m.lost += ticks - 1;
				if (gs_writer_add(w, &r) < 0)
					goto write_error;
			}
			if (!stop_reason) {
				int k = memrec_tick(&m, now);

				if (k < 0)
					goto write_error;
				if (k == 1 && !launched)
					stop_reason = GS_END_TARGET_EXIT;
			}
			if (!stop_reason) {
				/* memstats and the census: charged as the events are
				 * (the census also has a budget of its own) */
				uint64_t c0 = gs_now_ns(CLOCK_THREAD_CPUTIME_ID);

				if (gorec_tick(&bs.go, now) < 0)
					goto write_error;
				memrec_events_cpu(&m, gs_now_ns(CLOCK_THREAD_CPUTIME_ID) - c0);
			}
		}
		if (deadline && now >= deadline && !stop_reason)
			stop_reason = GS_END_DURATION;
		if ((bs.have_cpu || bs.have_flt || bs.have_go) && now - last_lost >= 1000000000u) {
			last_lost = now;
			if ((bs.have_cpu && cpurec_lost(&bs.cpu, now) < 0) ||
			    (bs.have_flt && faultrec_lost(&bs.flt, now) < 0) ||
			    (bs.have_go && gorec_lost(&bs.go, now) < 0))
				goto write_error;
		}
		/* at the first turn, then once a second (record/affinity.c) */
		if (now - last_aff >= 1000000000u) {
			last_aff = now;
			if (affinity_check(&aff, affmsg, sizeof(affmsg)) &&
			    write_message(w, GS_INFO, "%s", affmsg) < 0)
				goto write_error;
		}
		if (now - last_clock >= 60000000000ull) {
			if (write_clock(w) < 0)
				goto write_error;
			last_clock = now;
		}
		{
			/* Compressing a chunk costs what its records made it cost: the
			 * events' volume, mostly. Charged as they are (up to a share),
			 * so a flood of events cannot starve the smaps reads. */
			uint64_t c0 = gs_now_ns(CLOCK_THREAD_CPUTIME_ID);

			if (gs_writer_maybe_flush(w, now) < 0)
				goto write_error;
			memrec_events_cpu(&m, gs_now_ns(CLOCK_THREAD_CPUTIME_ID) - c0);
		}
		if (tty && now - last_status >= 250000000u) {
			status(&m, w, (double)(now - t0) / 1e9, page, 0);
			last_status = now;
		}
	}

	/* What the ring buffer still holds, and what was dropped. */
	if (bs.have_cpu && (cpurec_poll(&bs.cpu) < 0 || cpurec_lost(&bs.cpu, gs_now_ns(CLOCK_MONOTONIC)) < 0))
		goto write_error;
	if (bs.have_flt && (faultrec_poll(&bs.flt) < 0 || faultrec_lost(&bs.flt, gs_now_ns(CLOCK_MONOTONIC)) < 0))
		goto write_error;
	if (bs.have_go && (gorec_poll(&bs.go) < 0 || gorec_lost(&bs.go, gs_now_ns(CLOCK_MONOTONIC)) < 0))
		goto write_error;
	/* the cycles that ended since the last tick; then an open pause closes */
	if (stop_reason != GS_END_TARGET_EXIT &&
	    gorec_tick_final(&bs.go, gs_now_ns(CLOCK_MONOTONIC)) < 0)
		goto write_error;
	if (bs.have_go && gorec_stop(&bs.go, gs_now_ns(CLOCK_MONOTONIC)) < 0)
		goto write_error;
	if (os.objs.main_go_id >= 0 && gorec_write_check(&bs.go, (uint32_t)os.objs.main_go_id) < 0)
		goto write_error;
	if (bs.have_go && bs.go.probes_off) {
		msg("warning: the goroutine creation, exit and stack-copy probes could not be put "
		    "back after a pause (--go-rate): %s; those events end there",
		    strerror(bs.go.probes_off));
		if (write_message(w, GS_WARNING, "goroutine creation, exit and stack-copy probes "
				  "could not be put back after a pause: %s",
				  strerror(bs.go.probes_off)) < 0)
			goto write_error;
	}
	/* A last full read so the trace ends with fresh Pss, if there is memory. */
	if (stop_reason != GS_END_TARGET_EXIT &&
	    memrec_smaps_now(&m, gs_now_ns(CLOCK_MONOTONIC), 1) < 0)
		goto write_error;
	/* An exited target can no longer be read: say how stale its last
	 * per-mapping read is, when its memory moved after it (by over 1 MiB). */
	if (stop_reason == GS_END_TARGET_EXIT && m.smaps_reads) {
		uint64_t a = m.last_rss_pages, b = m.full_rss_pages, moved = a > b ? a - b : b - a;
		char was[32], now_rss[32];

		human(was, sizeof(was), (double)b * (double)page);
		human(now_rss, sizeof(now_rss), (double)a * (double)page);
		if (moved * (uint64_t)page > (1u << 20) &&
		    write_message(w, GS_WARNING, "the target exited %.1f s after the last per-mapping "
				  "smaps read, and its RSS moved from %s to %s after it (an exited "
				  "process cannot be read): Pss by mapping and class at the end is that "
				  "read's", (double)(m.last_statm_ns - m.full_ns) / 1e9, was, now_rss) < 0)
			goto write_error;
	}
	if (m.forced_reads &&
	    write_message(w, GS_INFO, "%" PRIu64 " per-mapping smaps reads were taken past the CPU "
			  "budget, the target's RSS having moved with none for --smaps-max-ms %u",
			  m.forced_reads, o.smaps_max_ms) < 0)
		goto write_error;
	if (launched && bs.go.stop_armed) {
		/* --heap-rate: a stop the recording ended before answering */
		gorec_disarm_stop(&bs.go);
		kill(pid, SIGCONT);
	}
	if (stop_reason == GS_END_DURATION && launched)
		kill(pid, SIGTERM);
	if (launched && child_status < 0) {
		/* Wait for the command: the recording is over, its status is ours. */
		while (waitpid(pid, &child_status, 0) < 0 && errno == EINTR)
			;
	}
	{
		struct gs_record r = { .type = GS_REC_EXIT };
		uint64_t now = gs_now_ns(CLOCK_MONOTONIC);

		if (launched && child_status >= 0) {
			if (WIFSIGNALED(child_status))
				r.u.exit = (struct gs_rec_exit){ now, GS_EXIT_SIGNAL,
					(uint32_t)WTERMSIG(child_status), WCOREDUMP(child_status) ? 1u : 0u };
			else
				r.u.exit = (struct gs_rec_exit){ now, GS_EXIT_CODE,
					(uint32_t)WEXITSTATUS(child_status), 0 };
			if (gs_writer_add(w, &r) < 0)
				goto write_error;
		} else if (stop_reason == GS_END_TARGET_EXIT) {
			r.u.exit = (struct gs_rec_exit){ now, GS_EXIT_UNKNOWN, 0, 0 };
			if (gs_writer_add(w, &r) < 0)
				goto write_error;
		}
	}
	{
		struct gs_record r = { .type = GS_REC_END };
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		r.u.end = (struct gs_rec_end){
			.t_ns = gs_now_ns(CLOCK_MONOTONIC), .reason = (uint32_t)stop_reason,
			.statm_samples = m.statm_samples, .smaps_reads = m.smaps_reads,
			.rollup_reads = m.rollup_reads, .cgroup_samples = m.cgroup_samples,
			.lost = m.lost,
			.cpu_user_ns = (uint64_t)ru.ru_utime.tv_sec * 1000000000u +
				       (uint64_t)ru.ru_utime.tv_usec * 1000u,
			.cpu_sys_ns = (uint64_t)ru.ru_stime.tv_sec * 1000000000u +
				      (uint64_t)ru.ru_stime.tv_usec * 1000u,
			.max_rss_kb = (uint64_t)ru.ru_maxrss,
			.records = gs_writer_records(w), .raw_bytes = gs_writer_raw_bytes(w),
			.objects_cpu_ns = m.objects_cpu_ns,
		};
		if (gs_writer_add(w, &r) < 0)
			goto write_error;
	}
	if (tty)
		status(&m, w, (double)(gs_now_ns(CLOCK_MONOTONIC) - t0) / 1e9, page, 1);
	{
		uint64_t bytes, samples = m.statm_samples;
		uint64_t reads = m.smaps_reads + m.rollup_reads;

		if (gs_writer_flush(w) < 0)
			goto write_error;
		bytes = gs_writer_file_bytes(w);
		if (gs_writer_close(w) < 0) {
			w = NULL;
			goto write_error;
		}
		w = NULL;
		if (!o.quiet)
			fprintf(stderr, "%s: wrote %s (%" PRIu64 " samples, %" PRIu64
				" smaps reads, %" PRIu64 " bytes)\n", prog, o.output, samples,
				reads, bytes);
		uint64_t hsnaps, hskipped, hbuckets, hcpu;

		heaprof_counts(bs.go.hp, &hsnaps, &hskipped, &hbuckets, &hcpu);
		if (!o.quiet && hskipped)
			fprintf(stderr, "%s: heap profile: %" PRIu64 " snapshots of %" PRIu64 " buckets "
				"(%.1f ms); %" PRIu64 " profiles the runtime published were passed over "
				"to keep within 1%% of a core\n", prog, hsnaps, hbuckets,
				(double)hcpu / 1e6, hskipped);
		if (!o.quiet && bs.have_go && bs.go.pauses) {
			uint64_t span = gs_now_ns(CLOCK_MONOTONIC) - bs.go.rec_start;

			fprintf(stderr, "%s: goroutine events over %u a second (--go-rate): their "
				"probes were off %.0f%% of the time, so the creations, exits and stack "
				"growth recorded are a sample\n", prog, o.go_rate,
				span ? 100.0 * (double)bs.go.paused_ns / (double)span : 0.0);
		}
	}
	if (launched) {
		rc = WIFSIGNALED(child_status) ? 128 + WTERMSIG(child_status)
					       : WEXITSTATUS(child_status);
	} else {
		rc = EX_OK;
	}
	goto out;

write_error:
	{
		int e = errno;
		uint64_t good = w ? gs_writer_file_bytes(w) : 0;

		if (tty)
			fputc('\n', stderr);
		if (committed)
			msg("cannot write %s: %s; the trace is readable up to its last complete "
			    "chunk (%" PRIu64 " bytes)%s", o.output, strerror(e), good,
			    e == ENOSPC ? ": free some space or record elsewhere with -o" : "");
		else
			msg("cannot write the trace beside %s: %s; nothing was recorded, and an "
			    "existing %s is left as it was%s", o.output, strerror(e), o.output,
			    e == ENOSPC ? ": free some space or record elsewhere with -o" : "");
		if (w)
			gs_writer_close(w);
		w = NULL;
		if (launched && pid > 0 && child_status < 0) {
			msg("recording stopped; waiting for %s to exit", o.cmd[0]);
			while (waitpid(pid, &child_status, 0) < 0 && errno == EINTR)
				;
		}
		FAIL(EX_OUTPUT);
	}
out:
	if (launched && o.pid > 0 && child_status < 0 && rc == EX_LAUNCH_FAIL) {
		/* Recording could not start: do not leave the command behind unwatched. */
		msg("stopping %s: it was started only to be recorded", o.cmd[0]);
		kill(o.pid, SIGKILL);
		while (waitpid(o.pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (bs.have_cpu)
		cpurec_close(&bs.cpu);
	if (bs.have_flt)
		faultrec_close(&bs.flt);
	gorec_close(&bs.go);
	stacks_free(&bs.stacks);
	memrec_close(&m);
	objects_free(&os.objs);
	if (w)
		gs_writer_close(w);	/* removes a trace never committed */
	if (pidfd >= 0)
		close(pidfd);
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
	return rc;
}
