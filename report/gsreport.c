/*
 * gsreport - replay gsmapper traces into SQLite and report on them.
 *
 * Every subcommand takes a trace or a database. A trace is imported on
 * demand into TRACE.db (or --db PATH) and that database is reused while the
 * trace's size, mtime and inode and the schema version are unchanged. An
 * import is built in a temporary file and renamed into place, so a killed
 * import never leaves a half-filled database that looks current.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gsreport.h"
#include "symbols.h"

#define GSMAPPER_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
"usage: gsreport import TRACE [-o DB]\n"
"       gsreport timeline TRACE|DB [--align gc] [--format csv|json] [-o FILE]\n"
"       gsreport summary TRACE|DB [-o FILE]\n"
"       gsreport addr2line TRACE|DB [--object PATH|BUILDID] [--inlines] [ADDR...]\n"
"       gsreport info TRACE|DB\n"
"       gsreport gc TRACE|DB [--format csv|json] [-o FILE]\n"
"       gsreport folded TRACE|DB [--weight W] [--at end|peak|SECONDS] [--cycle N]\n"
"                [--from S] [--to S] [-o FILE]\n"
"       gsreport goroutines TRACE|DB [--at end|peak|SECONDS] [--top N] [--sites N]\n"
"                [--format text|json] [-o FILE]\n"
"       gsreport heap TRACE|DB [--at end|peak|SECONDS | --cycle N] [--top N]\n"
"                [--sites N] [--format text|json] [-o FILE]\n"
"\n"
"Replay a gsmapper trace into SQLite and report on it.\n"
"\n"
"  import     stream TRACE into a database (default TRACE.db); schema in\n"
"             report/SCHEMA.md\n"
"  timeline   one row per statm sample: RSS, Pss (carried forward between\n"
"             smaps reads; pss_fresh marks new ones), anon, swap, cgroup, Pss by\n"
"             memory class, GC cycle, goroutines, heap; --align gc: one row per\n"
"             statm sample with its GC cycle and the time since that cycle's\n"
"             LastGC (cycles laid over one another: the sawtooth), then on\n"
"             stderr whether the heap and Pss floors rise from cycle to cycle\n"
"  summary    target, health of the trace, peaks, Pss by class at the peak and\n"
"             at the end, growth rates, lost data, cgroup\n"
"  addr2line  for each address (an unrelocated address of the object, as in its\n"
"             ELF file; from the arguments or one per line on stdin) print the\n"
"             function, then file:line, as `go tool addr2line` does, from the\n"
"             tables the trace holds (the binary is not needed); --inlines also\n"
"             prints inlined frames, innermost first\n"
"  info       the target's objects: paths, build-ids, Go versions, tables; the\n"
"             Go runtime's layout and probes, where each came from and what the\n"
"             recording's checks against the target's own figures said of it\n"
"  gc         one row per GC cycle: the runtime's NumGC and LastGC (exact when\n"
"             read from memstats), pause, RSS and Pss before and after, heap,\n"
"             live goroutines\n"
"  folded     stacks for flamegraph.pl (\"root;...;leaf COUNT\"), weighted by\n"
"             --weight: pss (default: resident memory at --at, bytes, each\n"
"             mapping's smaps Pss; first frames: class, mapping; the Go heap\n"
"             by the allocation stacks that hold it, from the runtime's heap\n"
"             profile, each its share of the heap's in-use bytes; other\n"
"             memory by the stack that made each page resident), pss-growth\n"
"             (the same, grown over --from S --to S, by default from the first\n"
"             per-mapping read to the last, net of what was given back),\n"
"             pss-faults and pss-faults-growth (every class, the heap too, by\n"
"             the stack of each page's first fault: who touched it first, not\n"
"             who holds it now, as the runtime reuses heap pages unseen),\n"
"             heap (the Go heap's in-use bytes by allocation stack, as of the\n"
"             last GC cycle published by --at, or of --cycle N; unsampled as\n"
"             pprof does), heap-growth (its change over --from/--to; stacks\n"
"             that shrank are listed on stderr), cpu (samples), faults,\n"
"             fault-bytes; --by-goroutine puts the goroutine first (cpu, faults),\n"
"             --no-class, --no-mapping, --unit kb; goroutines (live at --at, by\n"
"             creation stack; those older than the recording by creation site),\n"
"             goroutine-creations and stack-growth (bytes grown, by the growing\n"
"             goroutine's stack), in --from/--to (default: all)\n"
"  heap       the Go heap in use by allocation site (function) over the GC\n"
"             cycles, from the runtime's own heap profile, at 8 snapshots and at\n"
"             --at (default end) or --cycle N; sites whose in-use bytes kept\n"
"             rising flagged LEAK with their rate; the --top N (default 10)\n"
"             largest allocation stacks in full; --sites N (default 20, 0: all)\n"
"  goroutines live goroutines by creation site at 8 censuses over the recording\n"
"             and at --at (default end), sites whose least live count rose\n"
"             quarter after quarter flagged LEAK, and the --top N (default 10)\n"
"             largest stacks with their frames; --sites N (default 20, 0: all)\n"
"\n"
"Options:\n"
"  -o, --output FILE   write the report (or, for import, the database) here\n"
"      --db PATH       where a trace given to timeline/summary is imported\n"
"                      (default TRACE.db; ':memory:' keeps nothing)\n"
"      --format F      timeline and gc: csv (default) or json; goroutines and\n"
"                      heap: text (default) or json\n"
"      --object O      addr2line: the object (path, file name or build-id;\n"
"                      default the main executable)\n"
"      --inlines       addr2line: inlined frames too\n"
"  -h, --help          this help\n"
"      --version       print the version\n"
"\n"
"Each command takes only the options listed with it above; folded's --at,\n"
"--cycle, --from, --to, --by-goroutine, --no-class, --no-mapping and --unit\n"
"apply to the weights that use them, and any other is refused.\n"
"\n"
"Exit status: 0 success (a damaged trace, or one cut short, is reported from\n"
"everything intact, with a warning saying what was skipped); 1 internal\n"
"error; 2 bad usage (also an option that does not apply, or a time past the\n"
"end of the recording); 3 the input cannot be opened; 4 the input is not a\n"
"readable trace (empty, not a trace, a newer format version, a damaged\n"
"header); 5 the output cannot be written; 6 the trace holds nothing for this\n"
"report (no CPU samples, no goroutine census, no such object, ...).\n");
}

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	va_list ap;

	fputs("gsreport: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int is_sqlite(const char *path)
{
	char magic[16];
	FILE *f = fopen(path, "rb");
	int yes = f && fread(magic, 1, 16, f) == 16 && !memcmp(magic, "SQLite format 3", 16);

	if (f)
		fclose(f);
	return yes;
}

/* Is db an import of the trace as it is now, with our schema? */
static int up_to_date(sqlite3 *db, const struct stat *st)
{
	sqlite3_stmt *s;
	int64_t want[4] = { GS_SCHEMA_VERSION, st->st_size,
			    (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
			    (int64_t)st->st_ino };
	static const char *const keys[4] = { "schema_version", "trace_size", "trace_mtime_ns",
					     "trace_inode" };
	int ok = 1;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key=?", -1, &s, NULL))
		return 0;
	for (int i = 0; i < 4 && ok; i++) {
		sqlite3_bind_text(s, 1, keys[i], -1, SQLITE_STATIC);
		ok = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) == want[i];
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	return ok;
}

static int64_t meta_int(sqlite3 *db, const char *key)
{
	sqlite3_stmt *s;
	int64_t v = 0;

	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key=?", -1, &s, NULL))
		return 0;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/*
 * What a report made from this trace is missing, said once on stderr: a
 * damaged trace is reported from everything intact (exit 0), and the user
 * learns what was skipped.
 */
static void warn_health(sqlite3 *db, const char *trace)
{
	sqlite3_stmt *s;
	int64_t gaps = meta_int(db, "gaps"), lost = meta_int(db, "smaps_reads_lost");

	if (sqlite3_prepare_v2(db, "SELECT (SELECT value FROM meta WHERE key='damaged'), "
			       "(SELECT value FROM meta WHERE key='damage'), "
			       "(SELECT count(*) FROM recording)", -1, &s, NULL))
		return;
	if (sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_int(s, 0) && gaps)
			msg("warning: %s is damaged (%s); %" PRId64 " damaged bytes in %" PRId64
			    " stretch%s were skipped (%" PRId64 " chunks lost)%s, and everything "
			    "else is reported", trace, sqlite3_column_text(s, 1),
			    meta_int(db, "skipped_bytes"), gaps, gaps == 1 ? "" : "es",
			    meta_int(db, "frames_lost"),
			    meta_int(db, "cut_short") ? "; it is also cut short at the end" : "");
		else if (sqlite3_column_int(s, 0))
			msg("warning: %s is damaged; reporting what was read before the damage: %s",
			    trace, sqlite3_column_text(s, 1));
		else if (!sqlite3_column_int(s, 2))
			msg("warning: %s has no end record (gsrec was killed or is still "
			    "recording); reporting what was written", trace);
		if (lost)
			msg("warning: %" PRId64 " per-mapping smaps read%s could not be rebuilt past "
			    "the damage (Pss by mapping and class is unknown until the next full "
			    "read: earlier values are carried forward with their age)", lost,
			    lost == 1 ? "" : "s");
	}
	sqlite3_finalize(s);
}

static int open_reader(const char *trace, struct gs_reader **r, struct stat *st)
{
	enum gs_open_error e;
	char why[256];

	*r = gs_reader_open(trace, &e, why, sizeof(why));
	if (!*r) {
		msg("%s: %s", trace, why);
		return e == GS_E_IO ? RX_INPUT : RX_BADTRACE;
	}
	if (stat(trace, st) < 0) {
		msg("%s: %s", trace, strerror(errno));
		gs_reader_close(*r);
		return RX_INPUT;
	}
	return RX_OK;
}

/* Import trace into dbpath (via a temporary file). */
static int import_to(const char *trace, const char *dbpath, sqlite3 **out, int verbose)
{
	struct gs_reader *r;
	struct stat st;
	sqlite3 *db = NULL;
	char tmp[PATH_MAX + 32], err[512];
	int mem = !strcmp(dbpath, ":memory:");
	int rc = open_reader(trace, &r, &st);
	struct timespec a, b;

	if (rc)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &a);
	snprintf(tmp, sizeof(tmp), "%s", dbpath);
	if (!mem) {
		snprintf(tmp, sizeof(tmp), "%s.tmp-%d", dbpath, (int)getpid());
		unlink(tmp);
	}
	if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		msg("cannot create database %s: %s; choose another path with --db or -o", dbpath,
		    db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		gs_reader_close(r);
		return RX_OUTPUT;
	}
	if (gs_import(db, r, trace, &st, isatty(STDERR_FILENO), err, sizeof(err)) < 0) {
		int full = strstr(err, "disk") || strstr(err, "full") || strstr(err, "readonly") ||
			   strstr(err, "unable to open");

		msg("importing %s into %s failed: %s", trace, dbpath, err);
		sqlite3_close(db);
		if (!mem)
			unlink(tmp);
		gs_reader_close(r);
		return full ? RX_OUTPUT : RX_BADTRACE;
	}
	const struct gs_health *h = gs_reader_health(r);
	uint64_t records = h->records;

	gs_reader_close(r);
	/* The database holds what the trace holds: as private as the trace. */
	if (!mem && (chmod(tmp, 0600) < 0 || rename(tmp, dbpath) < 0)) {
		msg("cannot create %s: %s", dbpath, strerror(errno));
		sqlite3_close(db);
		unlink(tmp);
		return RX_OUTPUT;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;

	if (verbose)
		fprintf(stderr, "gsreport: imported %" PRIu64 " records from %s into %s in %.2f s "
			"(%.0f records/s)\n", records, trace, dbpath, secs,
			secs > 0 ? (double)records / secs : 0.0);
	*out = db;
	return RX_OK;
}

/* A database for input: as is, or imported from a trace (reusing a current one). */
static int open_input(const char *in, const char *dbopt, sqlite3 **db)
{
	char dbpath[PATH_MAX];
	struct stat st;

	if (access(in, R_OK) < 0) {
		msg("cannot open %s: %s", in, strerror(errno));
		return RX_INPUT;
	}
	if (is_sqlite(in)) {
		if (sqlite3_open_v2(in, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
			msg("cannot open database %s: %s", in, sqlite3_errmsg(*db));
			return RX_INPUT;
		}
		if (sqlite3_exec(*db, "SELECT value FROM meta WHERE key='schema_version'", NULL,
				 NULL, NULL) != SQLITE_OK) {
			msg("%s is an SQLite database but not one gsreport wrote", in);
			return RX_BADTRACE;
		}
		return RX_OK;
	}
	snprintf(dbpath, sizeof(dbpath), "%s", dbopt ? dbopt : "");
	if (!dbopt)
		snprintf(dbpath, sizeof(dbpath), "%s.db", in);
	if (strcmp(dbpath, ":memory:") && stat(in, &st) == 0 && is_sqlite(dbpath) &&
	    sqlite3_open_v2(dbpath, db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		if (up_to_date(*db, &st)) {
			warn_health(*db, in);
			return RX_OK;
		}
		sqlite3_close(*db);
	}
	*db = NULL;
	int rc = import_to(in, dbpath, db, 0);

	if (rc == RX_OUTPUT && !dbopt) {
		/* The trace's folder is not writable (an archive, say): use memory. */
		msg("importing into memory instead (keep a database with --db PATH)");
		rc = import_to(in, ":memory:", db, 0);
	}
	if (rc == RX_OK)
		warn_health(*db, in);
	return rc;
}

static int addr2line_one(struct gs_object *o, const char *text, int inlines)
{
	char *end;
	uint64_t addr = strtoull(text, &end, 16);
	struct gs_symframe fr[32];
	int n;

	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	if (end == text || *end) {
		msg("'%s' is not a hexadecimal address", text);
		return -1;
	}
	n = gs_object_symbolize(o, addr, inlines, fr, 32);
	if (!n)
		printf("?\n?:0\n");
	for (int i = 0; i < n; i++)
		printf("%.*s\n%s:%d\n", fr[i].func_len, fr[i].func, fr[i].file, fr[i].line);
	return 0;
}

static int cmd_addr2line(sqlite3 *db, const char *object, int inlines, char **addrs, int naddrs)
{
	struct gs_objects objs;
	struct gs_object *o;
	char err[256], line[256];
	int rc = RX_OK;

	if (gs_objects_load(db, &objs, err, sizeof(err)) < 0) {
		msg("%s", err);
		return RX_BADTRACE;
	}
	o = gs_objects_find(&objs, object);
	if (!o) {
		if (object)
			msg("no object '%s' in this trace (gsreport info lists them)", object);
		else
			msg("this trace holds no tables for the executable (recorded by a gsrec "
			    "without symbol tables, or lost to damage)");
		gs_objects_free(&objs);
		return RX_NODATA;
	}
	if (o->err[0])
		msg("warning: %s: %s", o->path, o->err);
	for (int i = 0; i < naddrs; i++)
		if (addr2line_one(o, addrs[i], inlines) < 0)
			rc = RX_USAGE;
	if (!naddrs)
		while (fgets(line, sizeof(line), stdin))
			if (addr2line_one(o, line, inlines) < 0)
				rc = RX_USAGE;
	gs_objects_free(&objs);
	if (fflush(stdout) != 0)
		rc = RX_OUTPUT;
	return rc;
}

/* Under a layout field, what the recording's checks said of it (go_check). */
static void check_line(FILE *out, const unsigned char *verdict, const unsigned char *how)
{
	if (verdict)
		fprintf(out, "  %-26s %s%s%s\n", "", verdict, how && *how ? ": " : "",
			how ? (const char *)how : "");
}

static int cmd_info(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(db, "SELECT pid, exe_path, go_version, go_module, build_id, "
			       "go_build_id FROM target", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			fprintf(out, "target: pid %d, %s\n  go version: %s\n  module: %s\n"
				"  build-id: %s\n  go build id: %s\n", sqlite3_column_int(s, 0),
				sqlite3_column_text(s, 1),
				*sqlite3_column_text(s, 2) ? (const char *)sqlite3_column_text(s, 2)
							   : "(not a Go program)",
				*sqlite3_column_text(s, 3) ? (const char *)sqlite3_column_text(s, 3) : "-",
				*sqlite3_column_text(s, 4) ? (const char *)sqlite3_column_text(s, 4) : "-",
				*sqlite3_column_text(s, 5) ? (const char *)sqlite3_column_text(s, 5) : "-");
		sqlite3_finalize(s);
	}
	if (sqlite3_prepare_v2(db, "SELECT o.id, o.path, o.build_id, o.go_version, o.is_main, "
			       "o.is_dyn, (SELECT group_concat(kind || ' ' || total, ', ') FROM "
			       "(SELECT DISTINCT kind, total FROM object_table t WHERE "
			       "t.object_id = o.id)) FROM object o ORDER BY o.id", -1, &s, NULL) != SQLITE_OK) {
		fprintf(out, "objects: none recorded (a trace from an older gsrec)\n");
		return ferror(out) ? -1 : 0;
	}
	struct gs_objects objs;
	char err[128];
	int have_objs = gs_objects_load(db, &objs, err, sizeof(err)) == 0;

	fprintf(out, "objects:\n");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *bid = (const char *)sqlite3_column_text(s, 2);
		const char *gv = (const char *)sqlite3_column_text(s, 3);
		const char *tabs = (const char *)sqlite3_column_text(s, 6);

		int64_t bias;
		char where[64] = "load bias unknown (no mapping of it recorded)";
		char text[256] = "";

		for (uint32_t i = 0; have_objs && i < objs.n; i++) {
			const struct gs_object *o = &objs.o[i];

			if ((int)o->id != sqlite3_column_int(s, 0))
				continue;
			if (gs_object_bias(db, o, &bias) == 0)
				snprintf(where, sizeof(where), "load bias 0x%llx", (unsigned long long)bias);
			if (o->err[0])
				snprintf(text, sizeof(text), "\n      unusable: %s", o->err);
			else if (o->has_go && o->text)
				snprintf(text, sizeof(text), "\n      Go text at 0x%llx (from the %s)",
					 (unsigned long long)o->text, o->text_source);
		}
		fprintf(out, "  [%d] %s%s%s\n      build-id %s%s%s\n      tables: %s\n      %s%s\n",
			sqlite3_column_int(s, 0), sqlite3_column_text(s, 1),
			sqlite3_column_int(s, 4) ? " (main executable)" : "",
			sqlite3_column_int(s, 5) ? " (position-independent)" : "",
			bid && *bid ? bid : "(none)", gv && *gv ? ", " : "", gv ? gv : "",
			tabs ? tabs : "none", where, text);
	}
	sqlite3_finalize(s);
	if (have_objs)
		gs_objects_free(&objs);
	if (sqlite3_prepare_v2(db, "SELECT o.path, l.field, l.value, l.source, c.verdict, c.how "
			       "FROM go_layout l JOIN object o ON o.id = l.object_id "
			       "LEFT JOIN go_check c ON c.object_id = l.object_id AND c.name = l.field "
			       "ORDER BY o.is_main DESC, o.id, l.rowid", -1, &s, NULL) == SQLITE_OK) {
		const char *last = NULL;
		char lastbuf[4096] = "";

		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *path = (const char *)sqlite3_column_text(s, 0);

			if (!last || strcmp(path, lastbuf)) {
				snprintf(lastbuf, sizeof(lastbuf), "%s", path);
				last = lastbuf;
				fprintf(out, "runtime layout of %s:\n", path);
			}
			const char *field = (const char *)sqlite3_column_text(s, 1);
			char v[32];

			/* addresses in hex, as every other tool writes them; offsets in decimal */
			snprintf(v, sizeof(v), strncmp(field, "addr.", 5) ? "%lld" : "%#llx",
				 sqlite3_column_int64(s, 2));
			if (sqlite3_column_type(s, 2) == SQLITE_NULL)
				fprintf(out, "  %-26s not found\n", field);
			else
				fprintf(out, "  %-26s %-12s (%s)\n", field, v, sqlite3_column_text(s, 3));
			if (sqlite3_column_type(s, 2) != SQLITE_NULL)
				check_line(out, sqlite3_column_text(s, 4), sqlite3_column_text(s, 5));
		}
		sqlite3_finalize(s);
	}
	/* where the goroutine and GC probes went, and what confirmed them */
	if (sqlite3_prepare_v2(db, "SELECT o.path, substr(c.name, 7), c.how, c.verdict FROM go_check c "
			       "JOIN object o ON o.id = c.object_id WHERE c.name LIKE 'probe.%' "
			       "ORDER BY o.is_main DESC, o.id, c.rowid", -1, &s, NULL) == SQLITE_OK) {
		char lastbuf[4096] = "";

		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *path = (const char *)sqlite3_column_text(s, 0);

			if (strcmp(path, lastbuf)) {
				snprintf(lastbuf, sizeof(lastbuf), "%s", path);
				fprintf(out, "goroutine and GC probes in %s:\n", path);
			}
			fprintf(out, "  %-26s %s: %s\n", sqlite3_column_text(s, 1),
				sqlite3_column_text(s, 3), sqlite3_column_text(s, 2));
		}
		sqlite3_finalize(s);
	}
	if (sqlite3_prepare_v2(db, "SELECT (SELECT value FROM meta WHERE key='table_raw_bytes'), "
			       "(SELECT value FROM meta WHERE key='table_frame_bytes'), "
			       "(SELECT value FROM meta WHERE key='file_bytes')", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			fprintf(out, "symbol tables: %lld bytes, taking %lld of the trace's %lld bytes "
				"compressed\n", sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
				sqlite3_column_int64(s, 2));
		sqlite3_finalize(s);
	}
	return ferror(out) ? -1 : 0;
}

/* ---- options: which command takes which ---- */

enum {
	OP_OUTPUT = 1 << 0, OP_DB = 1 << 1, OP_FORMAT = 1 << 2, OP_OBJECT = 1 << 3,
	OP_INLINES = 1 << 4, OP_WEIGHT = 1 << 5, OP_BYG = 1 << 6, OP_AT = 1 << 7,
	OP_NOCLASS = 1 << 8, OP_NOMAP = 1 << 9, OP_UNIT = 1 << 10, OP_FROM = 1 << 11,
	OP_TO = 1 << 12, OP_TOP = 1 << 13, OP_SITES = 1 << 14, OP_ALIGN = 1 << 15,
	OP_CYCLE = 1 << 16,
	OP_N = 17,
};
static const char *const op_name[OP_N] = {
	"-o", "--db", "--format", "--object", "--inlines", "--weight", "--by-goroutine", "--at",
	"--no-class", "--no-mapping", "--unit", "--from", "--to", "--top", "--sites", "--align",
	"--cycle",
};

static const struct command {
	const char *name;
	unsigned opts;
	const char *formats[2];	/* --format values, the default first */
} commands[] = {
	{ "import", OP_OUTPUT, { NULL } },
	{ "timeline", OP_OUTPUT | OP_DB | OP_FORMAT | OP_ALIGN, { "csv", "json" } },
	{ "summary", OP_OUTPUT | OP_DB, { NULL } },
	{ "addr2line", OP_DB | OP_OBJECT | OP_INLINES, { NULL } },
	{ "info", OP_OUTPUT | OP_DB, { NULL } },
	{ "gc", OP_OUTPUT | OP_DB | OP_FORMAT, { "csv", "json" } },
	{ "folded", OP_OUTPUT | OP_DB | OP_WEIGHT | OP_BYG | OP_AT | OP_NOCLASS | OP_NOMAP |
		    OP_UNIT | OP_FROM | OP_TO | OP_CYCLE, { NULL } },
	{ "goroutines", OP_OUTPUT | OP_DB | OP_FORMAT | OP_AT | OP_TOP | OP_SITES,
	  { "text", "json" } },
	{ "heap", OP_OUTPUT | OP_DB | OP_FORMAT | OP_AT | OP_CYCLE | OP_TOP | OP_SITES,
	  { "text", "json" } },
};

/* folded's weights and the options each uses (the others are refused) */
static const struct weight {
	const char *name;
	unsigned opts;
} weights[] = {
	{ "pss", OP_AT | OP_BYG | OP_NOCLASS | OP_NOMAP | OP_UNIT },
	{ "pss-growth", OP_FROM | OP_TO | OP_BYG | OP_NOCLASS | OP_NOMAP | OP_UNIT },
	{ "pss-faults", OP_AT | OP_BYG | OP_NOCLASS | OP_NOMAP | OP_UNIT },
	{ "pss-faults-growth", OP_FROM | OP_TO | OP_BYG | OP_NOCLASS | OP_NOMAP | OP_UNIT },
	{ "heap", OP_AT | OP_CYCLE | OP_UNIT },
	{ "heap-growth", OP_FROM | OP_TO | OP_UNIT },
	{ "cpu", OP_BYG },
	{ "faults", OP_BYG },
	{ "fault-bytes", OP_BYG },
	{ "goroutines", OP_AT },
	{ "goroutine-creations", OP_FROM | OP_TO },
	{ "stack-growth", OP_FROM | OP_TO | OP_UNIT },
};
#define NWEIGHTS (sizeof(weights) / sizeof(weights[0]))

/* "pss, pss-growth and stack-growth": the weights that take option bit op */
static void weights_taking(unsigned op, char *buf, size_t n)
{
	size_t k = 0, m = 0, total = 0;

	for (size_t i = 0; i < NWEIGHTS; i++)
		total += !!(weights[i].opts & op);
	buf[0] = 0;
	for (size_t i = 0; i < NWEIGHTS && k < n; i++)
		if (weights[i].opts & op) {
			m++;
			k += (size_t)snprintf(buf + k, n - k, "%s%s", m == 1 ? "" : m == total ? " and " : ", ",
					      weights[i].name);
		}
}

/* Refuse what does not apply: an option a command (or weight) does not use
 * would otherwise change nothing without a word. */
static int check_options(const struct command *c, const char *weight, unsigned given,
			 const char *format)
{
	const struct weight *w = NULL;

	if (weight && !strcmp(c->name, "folded")) {
		for (size_t i = 0; i < NWEIGHTS; i++)
			if (!strcmp(weights[i].name, weight))
				w = &weights[i];
		if (!w) {
			msg("--weight %s is not available: use pss, pss-growth, pss-faults, "
			    "pss-faults-growth, heap, heap-growth, cpu, faults, fault-bytes, "
			    "goroutines, goroutine-creations or stack-growth", weight);
			return RX_USAGE;
		}
	}
	for (int i = 0; i < OP_N; i++) {
		unsigned op = 1u << i;

		if (!(given & op))
			continue;
		if (op == OP_FORMAT && !strcmp(c->name, "summary")) {
			msg("summary has no --format: it is text for people; its facts are in the "
			    "database (gsreport import, report/SCHEMA.md), and timeline, gc and "
			    "goroutines take --format json");
			return RX_USAGE;
		}
		if (!(c->opts & op)) {
			msg("%s does not apply to %s (gsreport --help lists each command's options)",
			    op_name[i], c->name);
			return RX_USAGE;
		}
		if (w && op != OP_OUTPUT && op != OP_DB && op != OP_WEIGHT && !(w->opts & op)) {
			char list[160];

			weights_taking(op, list, sizeof(list));
			msg("%s does not apply to folded --weight %s; it applies to %s", op_name[i],
			    w->name, list);
			return RX_USAGE;
		}
	}
	if (format && strcmp(format, c->formats[0]) && strcmp(format, c->formats[1])) {
		msg("unknown format '%s' for %s: use %s or %s", format, c->name, c->formats[0],
		    c->formats[1]);
		return RX_USAGE;
	}
	return RX_OK;
}

/* Seconds from the recording's start to its last statm sample (-1: none). */
static double recording_secs(sqlite3 *db)
{
	sqlite3_stmt *s;
	double secs = -1;

	if (sqlite3_prepare_v2(db, "SELECT ((SELECT max(t_ns) FROM statm) - (SELECT min(mono_ns) "
			       "FROM clock)) / 1e9", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		secs = sqlite3_column_double(s, 0);
	sqlite3_finalize(s);
	return secs;
}

/* A moment given in seconds must lie within the recording. */
static int check_times(sqlite3 *db, const char *const *names, const char *const *vals, int n)
{
	double secs = -2;

	for (int i = 0; i < n; i++) {
		char *end;
		double v;

		if (!vals[i] || !strcmp(vals[i], "end") || !strcmp(vals[i], "peak"))
			continue;
		v = strtod(vals[i], &end);
		if (secs == -2)
			secs = recording_secs(db);
		if (secs >= 0 && v > secs + 0.5) {
			msg("%s %s is past the end of the recording, which lasts %.1f s: give a "
			    "time from 0 to %.1f, or end", names[i], vals[i], secs, secs);
			return RX_USAGE;
		}
	}
	return RX_OK;
}

/* --- one function per command that needs more than a line --- */

static int cmd_import(const char *in, const char *output)
{
	char dbpath[PATH_MAX];
	sqlite3 *db = NULL;
	int rc;

	if (access(in, R_OK) < 0) {
		msg("cannot open %s: %s", in, strerror(errno));
		return RX_INPUT;
	}
	snprintf(dbpath, sizeof(dbpath), "%s", output ? output : "");
	if (!output)
		snprintf(dbpath, sizeof(dbpath), "%s.db", in);
	rc = import_to(in, dbpath, &db, 1);
	if (rc == RX_OK)
		warn_health(db, in);
	sqlite3_close(db);
	return rc;
}

/* A report's failure: on the output (5), of the database (1). */
static int report_failed(sqlite3 *db, FILE *out, const char *what)
{
	msg("writing the %s failed: %s", what, ferror(out) ? strerror(errno) : sqlite3_errmsg(db));
	return ferror(out) ? RX_OUTPUT : RX_INTERNAL;
}

int main(int argc, char **argv)
{
	enum { O_DB = 256, O_FORMAT, O_VERSION, O_OBJECT, O_INLINES, O_WEIGHT, O_BYG, O_AT,
	       O_NOCLASS, O_NOMAP, O_UNIT, O_FROM, O_TO, O_TOP, O_SITES, O_ALIGN, O_CYCLE };
	static const struct option lopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "db", required_argument, NULL, O_DB },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "object", required_argument, NULL, O_OBJECT },
		{ "inlines", no_argument, NULL, O_INLINES },
		{ "weight", required_argument, NULL, O_WEIGHT },
		{ "by-goroutine", no_argument, NULL, O_BYG },
		{ "at", required_argument, NULL, O_AT },
		{ "no-class", no_argument, NULL, O_NOCLASS },
		{ "no-mapping", no_argument, NULL, O_NOMAP },
		{ "unit", required_argument, NULL, O_UNIT },
		{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },
		{ "top", required_argument, NULL, O_TOP },
		{ "align", required_argument, NULL, O_ALIGN },
		{ "sites", required_argument, NULL, O_SITES },
		{ "cycle", required_argument, NULL, O_CYCLE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ 0 }
	};
	const char *output = NULL, *dbopt = NULL, *cmd, *in, *object = NULL, *format = NULL;
	struct gs_goroutines_opts go = { .at = "end", .top = 10, .sites = 20 };
	int json = 0, c, rc, inlines = 0, align_gc = 0;
	unsigned given = 0;
	struct gs_folded_opts fo = { .weight = "pss", .at = "end", .cycle = -1 };
	const struct command *command = NULL;
	sqlite3 *db = NULL;
	FILE *out = stdout;

	if (argc < 2) {
		usage(stderr);
		return RX_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return RX_OK;
	}
	if (!strcmp(cmd, "--version")) {
		printf("gsreport %s (reads trace format %d.x)\n", GSMAPPER_VERSION, GS_VERSION_MAJOR);
		return RX_OK;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "o:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			given |= OP_OUTPUT;
			break;
		case O_DB:
			dbopt = optarg;
			given |= OP_DB;
			break;
		case O_FORMAT:
			format = optarg;
			json = !strcmp(optarg, "json");
			given |= OP_FORMAT;
			break;
		case O_ALIGN:
			if (strcmp(optarg, "gc")) {
				msg("invalid --align '%s': only gc (the runtime's GC cycles) is known",
				    optarg);
				return RX_USAGE;
			}
			align_gc = 1;
			given |= OP_ALIGN;
			break;
		case O_TOP:
		case O_SITES: {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end || v < 0 || v > 1000000) {
				msg("invalid --%s '%s': give a count (0: all)", c == O_TOP ? "top" : "sites",
				    optarg);
				return RX_USAGE;
			}
			*(c == O_TOP ? &go.top : &go.sites) = (int)v;
			given |= c == O_TOP ? OP_TOP : OP_SITES;
			break;
		}
		case O_OBJECT:
			object = optarg;
			given |= OP_OBJECT;
			break;
		case O_INLINES:
			inlines = 1;
			given |= OP_INLINES;
			break;
		case O_WEIGHT:
			fo.weight = optarg;
			given |= OP_WEIGHT;
			break;
		case O_BYG:
			fo.by_goroutine = 1;
			given |= OP_BYG;
			break;
		case O_AT: {
			char *end;

			fo.at = go.at = optarg;
			if (strcmp(optarg, "end") && strcmp(optarg, "peak") &&
			    (strtod(optarg, &end) < 0 || *end || end == optarg)) {
				msg("invalid --at '%s': use end, peak or seconds since the start", optarg);
				return RX_USAGE;
			}
			given |= OP_AT;
			break;
		}
		case O_FROM:
		case O_TO: {
			char *end;

			if (strcmp(optarg, "end") && (strtod(optarg, &end) < 0 || *end || end == optarg)) {
				msg("invalid --%s '%s': give seconds since the start (or end)",
				    c == O_FROM ? "from" : "to", optarg);
				return RX_USAGE;
			}
			if (c == O_FROM)
				fo.from = optarg;
			else
				fo.to = optarg;
			given |= c == O_FROM ? OP_FROM : OP_TO;
			break;
		}
		case O_CYCLE: {
			char *end;
			long long v = strtoll(optarg, &end, 10);

			if (end == optarg || *end || v < 0 || v > UINT32_MAX) {
				msg("invalid --cycle '%s': give a GC cycle's number (NumGC after it, as "
				    "gsreport gc lists them)", optarg);
				return RX_USAGE;
			}
			fo.cycle = v;
			given |= OP_CYCLE;
			break;
		}
		case O_NOCLASS:
			fo.no_class = 1;
			given |= OP_NOCLASS;
			break;
		case O_NOMAP:
			fo.no_mapping = 1;
			given |= OP_NOMAP;
			break;
		case O_UNIT:
			if (strcmp(optarg, "b") && strcmp(optarg, "kb")) {
				msg("invalid --unit '%s': use b or kb", optarg);
				return RX_USAGE;
			}
			fo.unit_kb = !strcmp(optarg, "kb");
			given |= OP_UNIT;
			break;
		case 'h':
			usage(stdout);
			return RX_OK;
		case O_VERSION:
			printf("gsreport %s\n", GSMAPPER_VERSION);
			return RX_OK;
		default:
			fprintf(stderr, "Try 'gsreport --help'.\n");
			return RX_USAGE;
		}
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			command = &commands[i];
	if (!command) {
		msg("unknown command '%s': use import, timeline, summary, addr2line, info, "
		    "folded, gc, goroutines or heap", cmd);
		return RX_USAGE;
	}
	rc = check_options(command, fo.weight, given, format);
	if (rc)
		return rc;
	if ((given & OP_CYCLE) && (given & OP_AT)) {
		msg("--cycle and --at both pick the heap profile's moment: give one");
		return RX_USAGE;
	}
	if (fo.from && fo.to && strcmp(fo.from, "end") && strcmp(fo.to, "end") &&
	    strtod(fo.from, NULL) > strtod(fo.to, NULL)) {
		msg("--from %s is after --to %s: give a window that ends after it starts", fo.from,
		    fo.to);
		return RX_USAGE;
	}
	if (fo.from && !strcmp(fo.from, "end") && fo.to && strcmp(fo.to, "end")) {
		msg("--from end is after --to %s: give a window that ends after it starts", fo.to);
		return RX_USAGE;
	}
	go.json = json;
	if (!strcmp(cmd, "addr2line") && optind < argc) {
		in = argv[optind];
		rc = open_input(in, dbopt, &db);
		if (rc == RX_OK)
			rc = cmd_addr2line(db, object, inlines, argv + optind + 1, argc - optind - 1);
		sqlite3_close(db);
		return rc;
	}
	if (optind != argc - 1) {
		msg(optind >= argc ? "%s needs a trace: gsreport %s TRACE" : "%s takes one trace",
		    cmd, cmd);
		return RX_USAGE;
	}
	in = argv[optind];
	if (!strcmp(cmd, "import"))
		return cmd_import(in, output);
	rc = open_input(in, dbopt, &db);
	if (rc)
		goto done;
	{
		const char *names[3] = { "--at", "--from", "--to" };
		const char *vals[3] = { (given & OP_AT) ? fo.at : NULL, fo.from, fo.to };

		rc = check_times(db, names, vals, 3);
		if (rc)
			goto done;
	}
	if (output && !(out = fopen(output, "w"))) {
		msg("cannot write %s: %s", output, strerror(errno));
		rc = RX_OUTPUT;
		goto done;
	}
	if (!strcmp(cmd, "folded")) {
		char why[200];
		int k = gs_folded(db, out, &fo, why, sizeof(why));

		if (k == 1) {
			msg("%s", why);
			rc = RX_NODATA;
		} else if (k < 0) {
			msg("writing folded stacks failed: %s", strerror(errno));
			rc = RX_OUTPUT;
		}
	} else if (!strcmp(cmd, "timeline") && align_gc) {
		char why[400] = "";

		if (gs_timeline_gc(db, out, json, why, sizeof(why)) < 0)
			rc = report_failed(db, out, "timeline");
		else if (why[0])
			msg("%s", why);
	} else if (!strcmp(cmd, "heap")) {
		char why[400] = "";
		struct gs_heap_opts ho = { .at = fo.at, .cycle = fo.cycle, .top = go.top,
					   .sites = go.sites, .json = json };
		int k = gs_heap_report(db, out, &ho, why, sizeof(why));

		if (k == 1) {
			msg("%s", why);
			rc = RX_NODATA;
		} else if (k < 0) {
			rc = report_failed(db, out, "heap report");
		}
	} else if (!strcmp(cmd, "goroutines")) {
		char why[300] = "";
		int k = gs_goroutines(db, out, &go, why, sizeof(why));

		if (k == 1) {
			msg("%s", why);
			rc = RX_NODATA;
		} else if (k < 0) {
			rc = report_failed(db, out, "goroutines report");
		}
	} else if (!strcmp(cmd, "gc")) {
		char why[300] = "";

		if (gs_gc(db, out, json, why, sizeof(why)) < 0)
			rc = report_failed(db, out, "gc report");
		else if (why[0])
			msg("%s", why);
	} else if ((!strcmp(cmd, "timeline") ? gs_timeline(db, out, json)
		    : !strcmp(cmd, "info")   ? cmd_info(db, out)
					     : gs_summary(db, out)) < 0) {
		rc = report_failed(db, out, cmd);
	}
	if (out != stdout && fclose(out) != 0 && !rc) {
		msg("cannot write %s: %s", output, strerror(errno));
		rc = RX_OUTPUT;
	}
	if (out == stdout && fflush(stdout) != 0 && !rc)
		rc = RX_OUTPUT;
done:
	sqlite3_close(db);
	return rc;
}
