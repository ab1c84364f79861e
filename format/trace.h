/*
 * trace.h - the one C definition of the gsmapper trace format (version 1).
 *
 * format/FORMAT.md is the prose specification; section numbers in comments
 * (§N) refer to it. Only the C files in format/ touch trace bytes: the rest sees
 * decoded records (struct gs_record) through the writer and reader below.
 *
 * On disk nothing is a C struct. Fixed-width header fields are explicit
 * little-endian; record bodies are sequences of LEB128 varints, strings and
 * byte strings (§4).
 */
#ifndef GS_TRACE_H
#define GS_TRACE_H

#include <stddef.h>
#include <stdint.h>

/* §2 File header: 32 bytes, uncompressed. */
#define GS_FILE_MAGIC		"\x89GSM\r\n\x1a\n"
#define GS_FILE_MAGIC_LEN	8
#define GS_FILE_HEADER_LEN	32
#define GS_VERSION_MAJOR	1
#define GS_VERSION_MINOR	3

/* §3 Frames: a 24-byte header, then a zstd frame of records. */
#define GS_FRAME_MAGIC		0x46534721u	/* "!GSF" read as LE u32 */
#define GS_FRAME_HEADER_LEN	24
#define GS_FRAME_MAX_RAW	(16u << 20)	/* readers refuse larger chunks */
#define GS_FRAME_MAX_RECORDS	(1u << 22)

/* §4 Record header: u16 type, u16 reserved (zero), u32 body length. */
#define GS_RECORD_HEADER_LEN	8

/*
 * §5 Record types. A retired number is never reused; 16..63 are reserved
 * for the eBPF, goroutine, GC and symbol records that come next.
 */
enum gs_rtype {
	GS_REC_TARGET		= 1,
	GS_REC_CLOCK		= 2,
	GS_REC_SMAPS_KEY	= 3,
	GS_REC_SMAPS_DELTA	= 4,
	GS_REC_SMAPS_ROLLUP	= 5,
	GS_REC_STATM		= 6,
	GS_REC_CGROUP		= 7,
	GS_REC_LOST		= 8,
	GS_REC_MESSAGE		= 9,
	GS_REC_EXIT		= 10,
	GS_REC_END		= 11,
	/* 12..15 reserved */
	GS_REC_OBJECT		= 16,
	GS_REC_OBJECT_TABLE	= 17,
	GS_REC_GO_LAYOUT	= 18,
	GS_REC_STACK		= 19,
	GS_REC_CPU_SAMPLE	= 20,
	GS_REC_FAULT		= 21,
	GS_REC_RELEASE		= 22,
	GS_REC_GO_CREATE	= 23,
	GS_REC_GO_EXIT		= 24,
	GS_REC_GO_STACK		= 25,
	GS_REC_GC_EVENT		= 26,
	GS_REC_GC_CYCLE		= 27,
	GS_REC_CENSUS		= 28,
	GS_REC_GO_HEAP		= 29,
	GS_REC_GO_PAUSE		= 30,
	GS_REC_GO_CHECK		= 31,
	GS_REC_HEAP_BUCKET	= 32,
	GS_REC_HEAP_PROFILE	= 33,
	GS_REC_MAX_KNOWN	= 33,
};

/* Name of a record type, or NULL for one this build does not know. */
const char *gs_rtype_name(unsigned type);

/*
 * §6.3 smaps fields, in their on-disk bit order (bit i of a field mask is
 * field i). Values are kB, exactly as the kernel prints them. Append only.
 * Not every kernel prints every field, and per-mapping smaps never prints
 * Pss_Anon, Pss_File or Pss_Shmem (only smaps_rollup does): a mapping's
 * `present` mask says which it had.
 */
enum gs_smaps_field {
	GS_SM_RSS, GS_SM_PSS, GS_SM_PSS_ANON, GS_SM_PSS_FILE, GS_SM_PSS_SHMEM,
	GS_SM_SHARED_CLEAN, GS_SM_SHARED_DIRTY, GS_SM_PRIVATE_CLEAN,
	GS_SM_PRIVATE_DIRTY, GS_SM_REFERENCED, GS_SM_ANONYMOUS, GS_SM_LAZYFREE,
	GS_SM_ANON_HUGE, GS_SM_SHMEM_PMD, GS_SM_FILE_PMD, GS_SM_SHARED_HUGETLB,
	GS_SM_PRIVATE_HUGETLB, GS_SM_SWAP, GS_SM_SWAP_PSS, GS_SM_LOCKED,
	GS_SM_PSS_DIRTY, GS_SM_KSM,
	GS_SM_NFIELDS
};

/* The kernel's name of a field ("Pss_Anon"), and its index or -1. */
const char *gs_smaps_field_name(int field);
int gs_smaps_field_index(const char *name, size_t len);

/* Permission bits of a mapping (§6.3). */
#define GS_PERM_R	1u
#define GS_PERM_W	2u
#define GS_PERM_X	4u
#define GS_PERM_SHARED	8u

/*
 * One mapping: its identity (everything but the counters) and its counters.
 * Two reads describe "the same mapping" only if every identity field is
 * equal; otherwise the writer records a removal and an addition.
 */
struct gs_mapping {
	uint64_t start, end, offset, inode;
	uint32_t dev_major, dev_minor;
	uint32_t perms;			/* GS_PERM_* */
	uint32_t kernel_page_kb, mmu_page_kb;
	int32_t thp_eligible;		/* 0, 1, or -1 when the kernel omits it */
	const char *path;		/* "" for anonymous; may end " (deleted)" */
	const char *vmflags;		/* "rd wr mr ..." or "" */
	uint32_t present;		/* bit i: the kernel printed field i */
	uint64_t v[GS_SM_NFIELDS];	/* kB; 0 where not present */
};

int gs_mapping_same_identity(const struct gs_mapping *a,
			     const struct gs_mapping *b);

/* §6.1 TARGET flags */
#define GS_TARGET_LAUNCHED	1u	/* gsrec started the command */
#define GS_TARGET_GO		2u	/* the executable is a Go program */
#define GS_TARGET_CMDLINE	4u	/* cmdline recorded (--record-cmdline) */

struct gs_rec_target {
	uint32_t pid, flags, page_size, clk_tck;
	uint64_t start_ticks;		/* /proc/PID/stat starttime, clock ticks since boot */
	uint64_t exe_dev, exe_inode;
	const char *exe_path;
	const uint8_t *build_id;	/* GNU build-id note, may be empty */
	uint32_t build_id_len;
	const char *go_build_id;	/* Go's own build id, "" if none */
	const char *go_version;		/* "go1.19.8", "" when not Go */
	const char *go_module;		/* main module path, "" if unknown */
	const char *comm;
	const char *host, *kernel, *machine;	/* uname */
	uint32_t argc;			/* only with GS_TARGET_CMDLINE */
	const char *const *argv;
};

struct gs_rec_clock {
	uint64_t mono_ns, real_ns, boot_ns;
};

/*
 * §6.3/§6.4 An smaps read. A keyframe lists every mapping (ids 0..n-1 in the
 * order given); a delta removes ids, adds mappings (taking the next ids) and
 * updates only the fields in each update's mask.
 */
struct gs_smaps_update {
	uint32_t id;
	uint32_t mask;			/* bit i set: v[i] is new */
	uint64_t v[GS_SM_NFIELDS];	/* only masked entries are meaningful */
};

struct gs_rec_smaps {
	uint64_t t_ns, wall_ns, cpu_ns;	/* when it began; its wall and CPU cost */
	/* The per-mapping read's number since recording began, plus 1; 0 when
	 * the trace does not say (format 1.0). A delta applies only to the read
	 * numbered one less (FORMAT.md §6.4). */
	uint64_t read_plus_1;
	uint32_t nremoved, nadded, nupdated;
	const uint32_t *removed;
	const struct gs_mapping *added;	/* for a keyframe: all mappings */
	const struct gs_smaps_update *updated;
};

struct gs_rec_rollup {
	uint64_t t_ns, wall_ns, cpu_ns;
	uint32_t mask;
	uint64_t v[GS_SM_NFIELDS];
};

struct gs_rec_statm {
	uint64_t t_ns;
	uint64_t size, resident, shared, text, data;	/* pages */
};

#define GS_CGROUP_NO_LIMIT	UINT64_MAX
#define GS_CGROUP_UNKNOWN	UINT64_MAX

struct gs_counter {
	const char *name;
	uint64_t value;
};

struct gs_rec_cgroup {
	uint64_t t_ns;
	uint32_t version;		/* 1 or 2 */
	const char *path;		/* the target's cgroup, relative to the hierarchy */
	uint64_t usage, limit, swap;	/* bytes; limit GS_CGROUP_NO_LIMIT; swap may be UNKNOWN */
	uint32_t ncounters;		/* memory.events (v2) or failcnt/oom_control (v1) */
	const struct gs_counter *counters;
};

/* Streams that can lose data. Numbers are on disk. */
enum gs_stream {
	GS_STREAM_STATM = 1,		/* timer ticks missed */
	GS_STREAM_SMAPS = 2,		/* reads that failed */
	GS_STREAM_CGROUP = 3,
	GS_STREAM_CPU = 4,		/* CPU samples dropped (ring buffer full) */
	GS_STREAM_MEM = 5,		/* faults and releases dropped */
	GS_STREAM_GO = 6,		/* goroutine and GC events dropped */
};
const char *gs_stream_name(unsigned stream);

struct gs_rec_lost {
	uint64_t t_ns;
	uint32_t stream;
	uint64_t count;
};

enum gs_level { GS_INFO = 0, GS_WARNING = 1, GS_ERROR = 2 };

struct gs_rec_message {
	uint64_t t_ns;
	uint32_t level;
	const char *text;
};

enum gs_exit_kind {
	GS_EXIT_CODE = 1,		/* status = exit code */
	GS_EXIT_SIGNAL = 2,		/* status = signal number */
	GS_EXIT_UNKNOWN = 3,		/* not our child: gone, status unknown */
};

struct gs_rec_exit {
	uint64_t t_ns;
	uint32_t kind, status, core_dumped;
};

enum gs_end_reason {
	GS_END_TARGET_EXIT = 1, GS_END_SIGNAL = 2, GS_END_DURATION = 3,
	GS_END_ERROR = 4,
};

struct gs_rec_end {
	uint64_t t_ns;
	uint32_t reason;
	uint64_t statm_samples, smaps_reads, rollup_reads, cgroup_samples;
	uint64_t lost;
	uint64_t cpu_user_ns, cpu_sys_ns, max_rss_kb;	/* gsrec's own */
	uint64_t records, raw_bytes;	/* written before this one */
	uint64_t objects_cpu_ns;	/* gsrec's CPU writing objects' tables */
};

/* §6.12 OBJECT flags */
#define GS_OBJ_MAIN		1u	/* the target's executable */
#define GS_OBJ_GO		2u	/* has a Go pclntab */
#define GS_OBJ_DYN		4u	/* ET_DYN: PIE or shared object, loaded at a bias */

struct gs_segment {
	uint64_t offset, vaddr, filesz, memsz;
	uint32_t flags;			/* PF_X 1, PF_W 2, PF_R 4 */
};

struct gs_rec_object {
	uint32_t id, flags;
	const char *path;
	uint64_t dev, inode;
	const uint8_t *build_id;
	uint32_t build_id_len;
	const char *go_build_id, *go_version;
	uint32_t nseg;
	const struct gs_segment *seg;	/* PT_LOAD segments */
};

/* §6.13 table kinds */
enum gs_table_kind {
	GS_TAB_GO_PCLNTAB = 1,		/* the raw pclntab section */
	GS_TAB_GO_INLTREE = 2,		/* inline trees: common/pclntab.h */
	GS_TAB_ELF_SYMBOLS = 3,		/* uv n, n x (uv value, uv size, str name), by value */
	GS_TAB_GO_TEXT = 4,		/* uv text, str source: what pclntab entries are from */
};
#define GS_TABLE_CHUNK	(1u << 20)	/* bytes of table per record */

struct gs_rec_object_table {
	uint32_t object, kind;
	uint64_t total, offset;		/* the table's size; this chunk's place in it */
	const uint8_t *data;
	uint32_t len;
};

/* §6.14 where the Go runtime keeps things, for one Go object */
struct gs_layout_entry {
	const char *name;		/* "g.goid", "addr.memstats", ... */
	int64_t value;			/* -1: not found */
	uint32_t source;		/* common/golayout.h enum gs_lay_source */
};

struct gs_rec_go_layout {
	uint32_t object, n;
	const struct gs_layout_entry *e;
};

/* §6.15 a distinct stack, referred to by id; pcs innermost first */
struct gs_rec_stack {
	uint32_t id, n;
	const uint64_t *pc;		/* runtime addresses */
};

/* §6.16 an on-CPU sample of the target */
struct gs_rec_cpu_sample {
	uint64_t t_ns;
	uint32_t tid, stack;
	int64_t goid;			/* -1: unknown */
	uint64_t sp_word;		/* the word at the user SP, 0 if unread */
};

/* §6.17 a page fault of the target: a page became resident */
struct gs_rec_fault {
	uint64_t t_ns, addr;
	uint32_t tid, stack, major;
	int64_t goid;			/* -1: unknown */
	uint64_t sp_word;		/* the word at the user SP, 0 if unread */
};

/* §6.18 the target gave memory back (or may have) */
enum gs_release_kind {
	GS_REL_MUNMAP = 1, GS_REL_MADVISE = 2, GS_REL_MREMAP = 3, GS_REL_BRK = 4,
};

struct gs_rec_release {
	uint64_t t_ns;
	uint32_t tid, kind;
	uint64_t addr, len, arg;	/* madvise: advice; mremap: new length; brk: new break */
};

/* §6.19 a goroutine was created (the go statement ran) */
struct gs_rec_go_create {
	uint64_t t_ns;
	uint32_t tid, stack;		/* stack: the creating goroutine's, at the go statement */
	uint64_t g;			/* the new goroutine's runtime.g (reused after exit) */
	int64_t parent;			/* the creating goroutine's id; -1 unknown */
	uint64_t gopc, startpc;		/* the go statement's pc; the entry function */
};

/* §6.20 a goroutine exited */
struct gs_rec_go_exit {
	uint64_t t_ns;
	uint32_t tid;
	uint64_t g;
	int64_t goid;
	uint64_t gopc, startpc;
};

/* §6.21 a goroutine's stack was copied to grow or shrink it */
struct gs_rec_go_stack {
	uint64_t t_ns;
	uint32_t tid, stack;		/* the goroutine's own stack (from g.sched) */
	uint64_t g;
	int64_t goid;
	uint64_t old_size, new_size;	/* bytes */
	uint64_t sp_word;		/* the word at g.sched.sp, 0 if not code */
};

/* §6.22 a GC phase began */
enum gs_gc_event_kind { GS_GC_START = 1, GS_GC_MARK_TERM = 2 };

struct gs_rec_gc_event {
	uint64_t t_ns;
	uint32_t tid, kind;
};

/* §6.23 a completed GC cycle, from the runtime's memstats */
#define GS_UNKNOWN		UINT64_MAX
#define GS_GC_EXACT		1u	/* last_gc_unix_ns and pause_ns read from memstats */

struct gs_rec_gc_cycle {
	uint64_t t_ns;			/* when gsrec read it */
	uint32_t numgc, flags;		/* NumGC after the cycle */
	uint64_t last_gc_unix_ns;	/* MemStats.LastGC of the cycle */
	uint64_t pause_ns;		/* its stop-the-world pauses */
	uint64_t pause_total_ns;	/* MemStats.PauseTotalNs after it */
	/* gcController's, as of t_ns; GS_UNKNOWN when this release's layout is unknown */
	uint64_t heap_live, heap_marked, heap_inuse, heap_released;
};

/* §6.25 the runtime's heap figures, sampled (GS_UNKNOWN where unknown) */
struct gs_rec_go_heap {
	uint64_t t_ns;
	uint32_t numgc;
	uint64_t heap_live, heap_inuse, heap_released;
};

/* §6.26 the creation, exit and stack-copy probes were off (gsrec --go-rate) */
struct gs_rec_go_pause {
	uint64_t t_ns, end_ns;		/* from the first refused hit to the probes' return */
	uint64_t refused;		/* hits refused before the probes came off */
};

/* §6.27 what gsrec checked of a Go object's layout and probes */
enum gs_check_verdict {
	GS_CHECK_NONE = 0,		/* not checked */
	GS_CHECK_VERIFIED = 1,		/* the target's own figures agreed */
	GS_CHECK_CONTRADICTED = 2,	/* they did not: how says where */
};

struct gs_check_entry {
	const char *name;		/* a GO_LAYOUT name, or "probe." and a function */
	uint32_t verdict;		/* enum gs_check_verdict */
	const char *how;		/* what was checked, in words */
};

struct gs_rec_go_check {
	uint32_t object, n;
	const struct gs_check_entry *e;
};

/* §6.28 a bucket of the runtime's heap profile: one allocation stack and size */
struct gs_rec_heap_bucket {
	uint32_t id;			/* numbered from 1 in the order found */
	uint32_t stack;			/* STACK id: return addresses, one frame each */
	uint64_t size;			/* bytes of each object it counts */
	uint64_t addr;			/* the bucket's runtime address */
};

/* §6.29 the heap profile as the runtime published it */
#define GS_HEAP_FULL		1u	/* every bucket found so far; else those changed */

struct gs_heap_count {
	uint32_t bucket;
	uint64_t allocs, frees;		/* sampled objects, since the program began */
};

struct gs_rec_heap_profile {
	uint64_t t_ns;			/* when gsrec read it */
	uint32_t seq;			/* 1, 2, ...: a gap is a lost snapshot */
	uint32_t cycle;			/* the GC cycle (NumGC) as of whose mark termination */
	uint32_t flags;			/* GS_HEAP_* */
	uint64_t rate;			/* runtime.MemProfileRate when read */
	uint32_t skipped;		/* published profiles not read since the last, for the budget */
	uint64_t cpu_ns;		/* what reading it cost gsrec */
	uint32_t n;
	const struct gs_heap_count *c;	/* by ascending bucket */
};

/* §6.24 a census of all goroutines (runtime.allgs) */
#define GS_G_NSTATUS		10	/* _Gidle .. _Gpreempted */
#define GS_NO_STACK		UINT32_MAX

struct gs_census_site {
	uint64_t gopc, startpc;
	uint32_t count;
	uint64_t stack_bytes;
};

struct gs_census_g {
	uint64_t g;
	int64_t goid;
	uint32_t status, stack;		/* stack GS_NO_STACK: not unwound (running) */
	uint64_t stack_size, gopc, startpc;
	uint64_t sp_word;
};

struct gs_rec_census {
	uint64_t t_ns, wall_ns, cpu_ns;
	uint32_t allglen;		/* goroutines ever allocated, dead ones included */
	uint32_t status[GS_G_NSTATUS];	/* live count by status (scan bit cleared) */
	uint64_t stack_bytes;		/* sum of stack.hi - stack.lo, dead ones excluded */
	uint32_t nsites, ntop;
	const struct gs_census_site *sites;	/* not dead, by (gopc, startpc) */
	const struct gs_census_g *top;		/* the largest stacks */
};

struct gs_record {
	unsigned type;
	union {
		struct gs_rec_target target;
		struct gs_rec_clock clock;
		struct gs_rec_smaps smaps;	/* SMAPS_KEY and SMAPS_DELTA */
		struct gs_rec_rollup rollup;
		struct gs_rec_statm statm;
		struct gs_rec_cgroup cgroup;
		struct gs_rec_lost lost;
		struct gs_rec_message message;
		struct gs_rec_exit exit;
		struct gs_rec_end end;
		struct gs_rec_object object;
		struct gs_rec_object_table table;
		struct gs_rec_go_layout layout;
		struct gs_rec_stack stack;
		struct gs_rec_cpu_sample cpu;
		struct gs_rec_fault fault;
		struct gs_rec_release release;
		struct gs_rec_go_create go_create;
		struct gs_rec_go_exit go_exit;
		struct gs_rec_go_stack go_stack;
		struct gs_rec_gc_event gc_event;
		struct gs_rec_gc_cycle gc_cycle;
		struct gs_rec_census census;
		struct gs_rec_go_heap go_heap;
		struct gs_rec_go_pause go_pause;
		struct gs_rec_go_check go_check;
		struct gs_rec_heap_bucket heap_bucket;
		struct gs_rec_heap_profile heap_profile;
	} u;
	/* Unknown types: the raw body, for tools that want to show it. */
	const uint8_t *raw;
	uint32_t raw_len;
};

/* ---- Writer (format/writer.c) ---------------------------------------- */

struct gs_writer;

struct gs_writer_opts {
	uint32_t chunk_bytes;		/* flush when this much is buffered (default 1 MiB) */
	uint32_t flush_ms;		/* and at least this often (default 1000) */
	int level;			/* zstd level (default 3) */
	/*
	 * Staged: write to a new temporary file beside path, which
	 * gs_writer_commit() renames into place and gs_writer_close() removes
	 * if never committed, so a run that fails early leaves an existing
	 * file at path as it was. (A path that exists and is not a regular
	 * file, such as /dev/stdout or a FIFO, is written directly.)
	 */
	int staged;
};

/*
 * Create the trace at path (mode 0600) or write to fd when path is NULL.
 * Returns NULL and sets errno on failure.
 */
struct gs_writer *gs_writer_open(const char *path, int fd,
				 const struct gs_writer_opts *opts);
/* Append a record. 0, or -1 with errno (e.g. ENOSPC) after which the writer
 * has stopped: what was flushed before stays readable. */
int gs_writer_add(struct gs_writer *w, const struct gs_record *rec);
/* Frame what is buffered now; or only if flush_ms has passed since the last. */
int gs_writer_flush(struct gs_writer *w);
int gs_writer_maybe_flush(struct gs_writer *w, uint64_t now_ns);
/*
 * A staged writer's file takes its place at path: an existing regular file
 * there is first renamed to path + keep_suffix (unless keep_suffix is NULL,
 * when it is replaced). 0, or -1 with errno; a no-op when not staged or
 * already committed.
 */
int gs_writer_commit(struct gs_writer *w, const char *keep_suffix);
/* Flush, close; returns 0 or -1 with errno. Frees w in every case. A staged
 * writer never committed removes its file instead. */
int gs_writer_close(struct gs_writer *w);
uint64_t gs_writer_file_bytes(const struct gs_writer *w);
uint64_t gs_writer_records(const struct gs_writer *w);
uint64_t gs_writer_raw_bytes(const struct gs_writer *w);

/* ---- Reader (format/reader.c) ----------------------------------------- */

struct gs_reader;

/* Errors that make a file unreadable as a whole (exit codes in gsreport). */
enum gs_open_error {
	GS_OK = 0,
	GS_E_IO,		/* could not open or read: errno */
	GS_E_EMPTY,		/* zero bytes */
	GS_E_NOT_TRACE,		/* wrong magic */
	GS_E_VERSION,		/* a newer major version */
	GS_E_HEADER,		/* header checksum or reserved fields bad */
};

/* A damaged stretch of a trace that the reader skipped (FORMAT.md §3.1). */
struct gs_damage {
	uint64_t offset, bytes;		/* where, and how much was skipped */
	uint32_t frames;		/* frames lost there (sequence numbers skipped) */
	char why[112];
};

#define GS_HEALTH_DAMAGES 8		/* the first ones are kept; all are counted */

struct gs_health {
	uint32_t version_major, version_minor;
	uint64_t created_real_ns;
	uint64_t file_bytes;		/* size when opened */
	uint64_t good_bytes;		/* header + good frames */
	uint64_t frames;		/* good frames read */
	uint64_t records;
	uint64_t unknown_records;	/* skipped: types this build does not know */
	uint64_t table_raw_bytes;	/* OBJECT_TABLE bodies */
	uint64_t table_frame_bytes;	/* frames holding only OBJECT and OBJECT_TABLE */
	int damaged;			/* anything skipped: a damaged stretch, a cut tail */
	char why[160];			/* the first thing skipped, and why */
	/* Damage in the middle: the reader skips to the next good frame. */
	uint32_t gaps;			/* damaged stretches skipped */
	uint64_t skipped_bytes;		/* their bytes */
	uint64_t frames_lost;		/* frames lost in them (sequence numbers) */
	uint64_t bad_records;		/* malformed records skipped in good frames */
	int cut_short;			/* the file ends inside a frame (a killed recorder) */
	uint32_t ndamage;		/* entries in damage[] */
	struct gs_damage damage[GS_HEALTH_DAMAGES];
};

/*
 * Open a trace. On failure returns NULL and sets *err (and errno for
 * GS_E_IO); msg receives a sentence for the user.
 */
struct gs_reader *gs_reader_open(const char *path, enum gs_open_error *err,
				 char *msg, size_t msglen);
/*
 * Next record: 1 with *rec filled (pointers valid until the next call),
 * 0 at the end of what can be read. A damaged frame is skipped: the reader
 * resynchronises on the next good frame, so only the damaged stretch is lost
 * (gs_reader_health() says what was skipped and why).
 */
int gs_reader_next(struct gs_reader *r, struct gs_record *rec);
const struct gs_health *gs_reader_health(const struct gs_reader *r);
/*
 * How many damaged stretches the reader has skipped so far: a consumer that
 * keeps state across records (smaps deltas, say) compares it between two
 * records to learn that records may be missing between them.
 */
uint32_t gs_reader_gaps(const struct gs_reader *r);
void gs_reader_close(struct gs_reader *r);

/* Read from memory instead of a file (the fuzzer, tests). buf must outlive r. */
struct gs_reader *gs_reader_open_mem(const uint8_t *buf, size_t len,
				     enum gs_open_error *err, char *msg,
				     size_t msglen);

/* ---- Record bodies (format/records.c) ---------------------------------- */

struct gs_buf {
	uint8_t *p;
	size_t len, cap;
	int oom;
};

/* The encoders, for the blobs whose formats FORMAT.md defines (object
 * tables): an unsigned LEB128 varint, raw bytes. b->oom says if one failed. */
void gs_buf_uv(struct gs_buf *b, uint64_t v);
void gs_buf_bytes(struct gs_buf *b, const void *p, size_t n);
void gs_buf_release(struct gs_buf *b);

/* Append rec's body (not its header) to b. -1 if the type is unknown. */
int gs_encode_body(struct gs_buf *b, const struct gs_record *rec);

struct gs_arena;
/*
 * Decode a body of the given type into rec, allocating strings and arrays
 * from a (reset by the caller). 0, or -1 if the body is malformed.
 */
int gs_decode_body(unsigned type, const uint8_t *p, size_t len,
		   struct gs_record *rec, struct gs_arena *a);

struct gs_arena *gs_arena_new(void);
void gs_arena_reset(struct gs_arena *a);
void gs_arena_free(struct gs_arena *a);

/* ---- Mapping state (format/smaps_state.c) ------------------------------ */

/*
 * What a reader reconstructs from keyframes and deltas: the live mappings
 * by id. Owned copies, so they outlive the record that described them.
 */
struct gs_smaps_state {
	struct gs_mapping *m;		/* indexed by id */
	uint8_t *alive;
	uint32_t n, cap;		/* ids in use: 0..n-1 */
	uint32_t live;
	uint64_t t_ns;
	uint64_t serial;		/* reads applied */
};

void gs_smaps_state_init(struct gs_smaps_state *s);
void gs_smaps_state_free(struct gs_smaps_state *s);
/* Apply a SMAPS_KEY or SMAPS_DELTA record. 0, or -1 when it refers to ids
 * that are not live (a corrupt trace, or a delta before any keyframe); the
 * state is then as it was. */
int gs_smaps_state_apply(struct gs_smaps_state *s, const struct gs_record *rec);

#endif
