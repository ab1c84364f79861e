/*
 * summary.c - `gsreport summary`: a text report in the spirit of
 * `perf report --stdio`'s header: what was recorded, how healthy the trace
 * is, peaks, where memory was by class at the peak and at the end, growth.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/smaps.h"
#include "goroutines.h"
#include "gsreport.h"

/* First column of the first row of sql as int64 (or dflt if none/NULL). */
static int64_t q_int(sqlite3 *db, const char *sql, int64_t dflt)
{
	sqlite3_stmt *s;
	int64_t v = dflt;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
			v = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	return v;
}

static const char *meta_text(sqlite3 *db, const char *key, char *buf, size_t n)
{
	sqlite3_stmt *s;

	buf[0] = 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key=?", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
			snprintf(buf, n, "%s", (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	return buf;
}

static const char *hb(char *buf, size_t n, double bytes)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;
	double a = fabs(bytes);

	while (a >= 1024 && i < 4) {
		a /= 1024;
		bytes /= 1024;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", bytes, u[i]);
	return buf;
}

/* Per-class Pss of one read into kb[]; returns 0 when the read has none. */
static int class_pss(sqlite3 *db, int64_t read_id, int64_t *kb)
{
	sqlite3_stmt *s;
	int n = 0;

	memset(kb, 0, GS_NCLASSES * sizeof(*kb));
	if (sqlite3_prepare_v2(db, "SELECT class, pss_kb FROM smaps_class WHERE read_id=?", -1, &s, NULL))
		return 0;
	sqlite3_bind_int64(s, 1, read_id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(s, 0);

		for (int k = 0; k < GS_NCLASSES; k++)
			if (c && !strcmp(c, gs_class_name(k)))
				kb[k] = sqlite3_column_int64(s, 1);
		n++;
	}
	sqlite3_finalize(s);
	return n;
}

/* Least-squares slope of y over t (seconds) in bytes per second. */
static double slope(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	double v = NAN;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) >= 2) {
			double n = sqlite3_column_double(s, 0), st = sqlite3_column_double(s, 1);
			double sy = sqlite3_column_double(s, 2), stt = sqlite3_column_double(s, 3);
			double sty = sqlite3_column_double(s, 4), d = n * stt - st * st;

			if (d > 0)
				v = (n * sty - st * sy) / d;
		}
		sqlite3_finalize(s);
	}
	return v;
}

struct topline {
	uint64_t w;
	char *text;
};

static int cmp_top(const void *a, const void *b)
{
	const struct topline *x = a, *y = b;

	return x->w < y->w ? 1 : x->w > y->w ? -1 : strcmp(x->text, y->text);
}

/* The likely heap leaks' functions, "\nNAME\nNAME\n" (malloc'd; NULL: none). */
static char *heap_leak_names(sqlite3 *db)
{
	char *buf = NULL, *names = NULL;
	size_t len = 0, nl = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (!mem)
		return NULL;
	int n = gs_heap_leaks(db, mem, 1000);

	fclose(mem);
	if (n > 0 && buf && (names = malloc(len + 2))) {
		names[nl++] = '\n';
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
			char *colon = strstr(line, ": in-use heap rising");

			if (!colon)
				continue;
			while (*line == ' ')
				line++;
			memcpy(names + nl, line, (size_t)(colon - line));
			nl += (size_t)(colon - line);
			names[nl++] = '\n';
		}
		names[nl] = 0;
	}
	free(buf);
	return names;
}

/* The heaviest folded stacks of a weight, their last frames shown. */
static void top_stacks(sqlite3 *db, FILE *out, const char *weight, const char *title,
		       int bytes)
{
	char *leaks = strcmp(weight, "pss") ? NULL : heap_leak_names(db);

	struct gs_folded_opts o = { .weight = weight, .at = "end" };
	char *buf = NULL, msg[160], b1[32];
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	struct topline *t = NULL;
	size_t n = 0;
	uint64_t total = 0;

	if (!mem)
		return;
	int k = gs_folded(db, mem, &o, msg, sizeof(msg));

	fclose(mem);
	if (k != 0 || !buf) {
		free(buf);
		return;
	}
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *sp = strrchr(line, ' ');
		struct topline *nt;

		if (!sp || !(nt = realloc(t, (n + 1) * sizeof(*t))))
			break;
		t = nt;
		*sp = 0;
		t[n++] = (struct topline){ strtoull(sp + 1, NULL, 10), line };
		total += t[n - 1].w;
	}
	qsort(t, n, sizeof(*t), cmp_top);
	fprintf(out, "\nTop stacks by %s:\n", title);
	for (size_t i = 0; i < n && i < 5; i++) {
		/* the leaf end is what tells stacks apart: show its last 4 frames */
		const char *s = t[i].text;
		int semis = 0;

		for (const char *p = t[i].text + strlen(t[i].text); p > t[i].text; p--)
			if (p[-1] == ';' && ++semis == 4) {
				s = p;
				break;
			}
		if (bytes)
			hb(b1, sizeof(b1), (double)t[i].w);
		else
			snprintf(b1, sizeof(b1), "%" PRIu64, t[i].w);
		/* a heap line whose allocating function is a likely leak */
		const char *leaf = strrchr(t[i].text, ';'), *tag = "";
		char key[512];

		snprintf(key, sizeof(key), "\n%s\n", leaf ? leaf + 1 : t[i].text);
		if (leaks && !strncmp(t[i].text, "heap;[heap-profile];", 20) && strstr(leaks, key))
			tag = "  <- likely leak";
		fprintf(out, "  %12s %5.1f%%  %s%s%s\n", b1,
			total ? 100.0 * (double)t[i].w / (double)total : 0.0,
			s == t[i].text ? "" : "...;", s, tag);
	}
	free(t);
	free(buf);
	free(leaks);
}

/* GC cycles, their floors, goroutines, stacks, likely leaks. */
static void go_section(sqlite3 *db, FILE *out)
{
	char sql[512], b1[32], b2[32];
	int64_t start = q_int(db, "SELECT min(real_ns) FROM clock", 0);
	int64_t ncy, nmt = q_int(db, "SELECT count(*) FROM gc_event WHERE kind = 'mark_termination'", 0);
	int64_t ncensus = q_int(db, "SELECT count(*) FROM census", 0);
	int64_t ncreate = q_int(db, "SELECT count(*) FROM go_create", 0);

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM gc_cycle WHERE last_gc_unix_ns >= %" PRId64,
		 start);
	ncy = q_int(db, sql, 0);
	if (!ncy && !nmt && !ncensus && !ncreate)
		return;
	fprintf(out, "\nGC and goroutines\n");
	if (ncy) {
		sqlite3_stmt *s;

		snprintf(sql, sizeof(sql), "SELECT min(numgc), max(numgc), min(last_gc_unix_ns), "
			 "max(last_gc_unix_ns), sum(pause_ns), max(pause_ns) FROM gc_cycle WHERE "
			 "last_gc_unix_ns >= %" PRId64, start);
		if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
			int64_t n0 = sqlite3_column_int64(s, 0), n1 = sqlite3_column_int64(s, 1);
			double span = (double)(sqlite3_column_int64(s, 3) - sqlite3_column_int64(s, 2)) / 1e6;

			fprintf(out, "  GC cycles     %" PRId64 " during the recording (NumGC %" PRId64
				" to %" PRId64 ", read from memstats)", ncy, n0, n1);
			if (ncy > 1)
				fprintf(out, ", one every %.1f ms", span / (double)(ncy - 1));
			fprintf(out, "; pauses %.2f ms in all, longest %.3f ms\n",
				(double)sqlite3_column_int64(s, 4) / 1e6,
				(double)sqlite3_column_int64(s, 5) / 1e6);
		}
		sqlite3_finalize(s);
	} else if (nmt) {
		fprintf(out, "  GC cycles     %" PRId64 " ended during the recording (mark termination "
			"probe; runtime.memstats was not read, so NumGC and LastGC are estimates: "
			"`gsreport gc`)\n", nmt);
	}
	struct gs_floors fl;

	if ((ncy || nmt) && gs_floors_load(db, &fl) == 0) {
		struct gs_trend t;
		char line[256];

		for (int of = 0; of < 2; of++) {
			gs_trend_of(&fl, of, &t);
			gs_trend_say(line, sizeof(line), of ? "Pss" : "heap", &t);
			fprintf(out, "  %s\n", line);
		}
		gs_floors_free(&fl);
	}
	if (ncensus) {
		sqlite3_stmt *s;

		if (sqlite3_prepare_v2(db, "SELECT (SELECT allglen - dead FROM census ORDER BY id LIMIT 1), "
				       "(SELECT allglen - dead FROM census ORDER BY id DESC LIMIT 1), "
				       "max(allglen - dead), (SELECT stack_bytes FROM census ORDER BY id "
				       "DESC LIMIT 1), max(stack_bytes), (SELECT t_ns - (SELECT min(mono_ns) "
				       "FROM clock) FROM census ORDER BY allglen - dead DESC, id LIMIT 1) "
				       "FROM census", -1, &s, NULL) == SQLITE_OK &&
		    sqlite3_step(s) == SQLITE_ROW) {
			fprintf(out, "  goroutines    %lld at the first census, %lld at the last, at most "
				"%lld (at %.1f s); the runtime's own included, %" PRId64 " censuses\n",
				sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
				sqlite3_column_int64(s, 2), (double)sqlite3_column_int64(s, 5) / 1e9, ncensus);
			fprintf(out, "  stacks        %s at the last census, at most %s\n",
				hb(b1, sizeof(b1), (double)sqlite3_column_int64(s, 3)),
				hb(b2, sizeof(b2), (double)sqlite3_column_int64(s, 4)));
		}
		sqlite3_finalize(s);
	}
	int64_t nexit = q_int(db, "SELECT count(*) FROM go_exit", 0);

	if (ncreate || nexit) {
		int64_t lost = q_int(db, "SELECT coalesce(sum(count), 0) FROM lost WHERE stream = 'goroutines'", 0);

		fprintf(out, "  lifecycle     %" PRId64 " created, %" PRId64 " exited during the recording",
			ncreate, nexit);
		if (lost)
			fprintf(out, " (%" PRId64 " events lost)", lost);
		fprintf(out, "; stacks grew %s in %" PRId64 " copies",
			hb(b1, sizeof(b1), (double)q_int(db, "SELECT coalesce(sum(new_size - old_size), 0) "
							 "FROM go_stack WHERE new_size > old_size", 0)),
			q_int(db, "SELECT count(*) FROM go_stack WHERE new_size > old_size", 0));
		double off = gs_go_paused(db, INT64_MIN, INT64_MAX);

		if (off >= 0)
			fprintf(out, "\n                (a sample: the probes were paused %.0f%% of the "
				"time to stay within gsrec --go-rate)", 100.0 * off);
		fputc('\n', out);
	}
	if (ncensus) {
		int n = gs_goroutine_leaks(db, out, 5);

		if (n == 0)
			fprintf(out, "  likely leaks: none (%s)\n", ncensus >= 4 ? "no creation site's "
				"live count kept rising" : "too few censuses to judge");
	}
	/* the runtime's heap profile */
	int64_t nsnap = q_int(db, "SELECT count(*) FROM heap_snapshot", 0);

	if (nsnap) {
		int64_t skipped = q_int(db, "SELECT coalesce(sum(skipped), 0) FROM heap_snapshot", 0);

		fprintf(out, "  heap profile: %" PRId64 " snapshots (runtime.MemProfileRate %" PRId64
			"), %" PRId64 " allocation stacks", nsnap,
			q_int(db, "SELECT rate FROM heap_snapshot ORDER BY seq DESC LIMIT 1", 0),
			q_int(db, "SELECT count(*) FROM heap_bucket", 0));
		if (skipped)
			fprintf(out, "; %" PRId64 " published profiles passed over to stay within "
				"gsrec's budget", skipped);
		fputc('\n', out);
		char *buf = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&buf, &len);
		int n = mem ? gs_heap_leaks(db, mem, 5) : -1;

		if (mem)
			fclose(mem);
		if (n == 0)
			fprintf(out, "  likely heap leaks: %s\n", nsnap < 9 ? "too few snapshots to judge" :
				"none (no allocation site's in-use bytes kept rising)");
		else if (n > 0)
			fprintf(out, "  likely heap leaks (in-use bytes kept rising; gsreport heap):\n%s",
				buf);
		free(buf);
	}
}

int gs_summary(sqlite3 *db, FILE *out)
{
	char b1[32], b2[32], b3[32], buf[512];
	sqlite3_stmt *s;
	int64_t t0 = q_int(db, "SELECT min(mono_ns) FROM clock", 0);
	int64_t tfirst = q_int(db, "SELECT min(t_ns) FROM statm", t0);
	int64_t tlast = q_int(db, "SELECT max(t_ns) FROM statm", tfirst);
	int64_t real0 = q_int(db, "SELECT real_ns FROM clock ORDER BY mono_ns LIMIT 1", 0);
	int64_t nstatm = q_int(db, "SELECT count(*) FROM statm", 0);
	int64_t nfull = q_int(db, "SELECT count(*) FROM smaps_read WHERE kind != 'rollup'", 0);
	int64_t nkey = q_int(db, "SELECT count(*) FROM smaps_read WHERE kind = 'key'", 0);
	int64_t nroll = q_int(db, "SELECT count(*) FROM smaps_read WHERE kind = 'rollup'", 0);
	int64_t ncg = q_int(db, "SELECT count(*) FROM cgroup", 0);
	int64_t has_end = q_int(db, "SELECT count(*) FROM recording", 0);
	double dur = (double)(tlast - (t0 ? t0 : tfirst)) / 1e9;

	if (!t0)
		t0 = tfirst;
	fprintf(out, "# gsmapper summary\n");
	fprintf(out, "# trace:     %s (format %s, %s bytes)\n", meta_text(db, "trace_path", buf, sizeof(buf)),
		meta_text(db, "format_version", b1, sizeof(b1)), meta_text(db, "file_bytes", b2, sizeof(b2)));

	/* Health first: everything below is only as good as what was read. */
	int64_t damaged = q_int(db, "SELECT value FROM meta WHERE key='damaged'", 0);
	int64_t frames = q_int(db, "SELECT value FROM meta WHERE key='frames'", 0);
	int64_t records = q_int(db, "SELECT value FROM meta WHERE key='records'", 0);

	int64_t gaps = q_int(db, "SELECT value FROM meta WHERE key='gaps'", 0);

	if (damaged && gaps)
		fprintf(out, "# health:    DAMAGED: read %" PRId64 " records in %" PRId64 " chunks; "
			"skipped %" PRId64 " damaged bytes in %" PRId64 " stretch%s (%" PRId64 " chunks "
			"lost, %" PRId64 " per-mapping smaps reads not rebuilt)%s; first: %s\n", records,
			frames, q_int(db, "SELECT value FROM meta WHERE key='skipped_bytes'", 0), gaps,
			gaps == 1 ? "" : "es",
			q_int(db, "SELECT value FROM meta WHERE key='frames_lost'", 0),
			q_int(db, "SELECT value FROM meta WHERE key='smaps_reads_lost'", 0),
			q_int(db, "SELECT value FROM meta WHERE key='cut_short'", 0)
				? "; cut short at the end" : "",
			meta_text(db, "damage", buf, sizeof(buf)));
	else if (damaged)
		fprintf(out, "# health:    DAMAGED: read %" PRId64 " records in %" PRId64 " chunks up to "
			"byte %" PRId64 "; %s\n", records, frames,
			q_int(db, "SELECT value FROM meta WHERE key='good_bytes'", 0),
			meta_text(db, "damage", buf, sizeof(buf)));
	else if (!has_end)
		fprintf(out, "# health:    cut short (no end record: gsrec was killed or is still "
			"recording); %" PRId64 " records in %" PRId64 " chunks read\n", records, frames);
	else
		fprintf(out, "# health:    closed cleanly; %" PRId64 " records in %" PRId64 " chunks\n",
			records, frames);
	int64_t unknown = q_int(db, "SELECT value FROM meta WHERE key='unknown_records'", 0);

	if (unknown)
		fprintf(out, "# note:      %" PRId64 " records of types this gsreport does not know were "
			"skipped (a newer gsrec wrote them)\n", unknown);

	if (sqlite3_prepare_v2(db, "SELECT pid, exe_path, go_version, go_module, build_id, "
			       "launched, comm, host, kernel, cmdline FROM target", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW) {
			const char *gv = (const char *)sqlite3_column_text(s, 2);
			const char *mod = (const char *)sqlite3_column_text(s, 3);
			const char *bid = (const char *)sqlite3_column_text(s, 4);
			const char *cmd = (const char *)sqlite3_column_text(s, 9);

			fprintf(out, "# target:    pid %d (%s), %s, %s\n", sqlite3_column_int(s, 0),
				sqlite3_column_text(s, 6), sqlite3_column_text(s, 1),
				sqlite3_column_int(s, 5) ? "launched by gsrec" : "attached");
			fprintf(out, "# go:        %s%s%s\n", gv && *gv ? gv : "not a Go program",
				mod && *mod ? ", module " : "", mod ? mod : "");
			if (bid && *bid)
				fprintf(out, "# build-id:  %s\n", bid);
			if (cmd)
				fprintf(out, "# cmdline:   %s\n", cmd);
			fprintf(out, "# host:      %s, Linux %s\n", sqlite3_column_text(s, 7),
				sqlite3_column_text(s, 8));
		}
		sqlite3_finalize(s);
	}
	if (real0) {
		time_t secs = (time_t)(real0 / 1000000000);
		struct tm tm;
		char when[64];

		gmtime_r(&secs, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		fprintf(out, "# recorded:  %s, for %.1f s\n", when, dur);
	}
	fprintf(out, "# samples:   %" PRId64 " statm, %" PRId64 " smaps (%" PRId64 " keyframes), %"
		PRId64 " rollup, %" PRId64 " cgroup\n", nstatm, nfull, nkey, nroll, ncg);
	if (sqlite3_prepare_v2(db, "SELECT kind, status, core_dumped, t_ns FROM exit", -1, &s, NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW) {
			const char *k = (const char *)sqlite3_column_text(s, 0);
			double at = (double)(sqlite3_column_int64(s, 3) - t0) / 1e9;

			if (!strcmp(k, "exited"))
				fprintf(out, "# exit:      exited with status %d at %.1f s\n",
					sqlite3_column_int(s, 1), at);
			else if (!strcmp(k, "signal"))
				fprintf(out, "# exit:      killed by signal %d%s at %.1f s\n",
					sqlite3_column_int(s, 1), sqlite3_column_int(s, 2) ? " (core dumped)" : "", at);
			else
				fprintf(out, "# exit:      exited at %.1f s (status unknown: not gsrec's child)\n", at);
		}
		sqlite3_finalize(s);
	}
	if (sqlite3_prepare_v2(db, "SELECT reason, cpu_user_ns + cpu_sys_ns, max_rss_kb, "
			       "objects_cpu_ns FROM recording", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			fprintf(out, "# stopped:   %s; gsrec used %.2f%% of a core (%.0f ms of it writing "
				"symbol tables once), %s peak RSS\n", sqlite3_column_text(s, 0),
				dur > 0 ? 100.0 * (double)sqlite3_column_int64(s, 1) / 1e9 / dur : 0.0,
				(double)sqlite3_column_int64(s, 3) / 1e6,
				hb(b1, sizeof(b1), 1024.0 * (double)sqlite3_column_int64(s, 2)));
		sqlite3_finalize(s);
	}
	/* Lost data, by stream. */
	int nlost = 0;

	if (sqlite3_prepare_v2(db, "SELECT stream, sum(count) FROM lost GROUP BY stream ORDER BY stream", -1, &s, NULL) == SQLITE_OK) {
		fprintf(out, "# lost:      ");
		while (sqlite3_step(s) == SQLITE_ROW)
			fprintf(out, "%s%" PRId64 " %s", nlost++ ? ", " : "", (int64_t)sqlite3_column_int64(s, 1),
				sqlite3_column_text(s, 0));
		fprintf(out, "%s\n", nlost ? "" : "none");
		sqlite3_finalize(s);
	}
	if (sqlite3_prepare_v2(db, "SELECT level, text FROM message ORDER BY rowid", -1, &s, NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW)
			fprintf(out, "# %-10s %s\n", (const char *)sqlite3_column_text(s, 0),
				sqlite3_column_text(s, 1));
		sqlite3_finalize(s);
	}
	int64_t nobj = q_int(db, "SELECT count(*) FROM object", 0);

	if (nobj)
		fprintf(out, "# symbols:   %" PRId64 " objects, %" PRId64 " bytes of tables, taking %"
			PRId64 " bytes of the trace\n", nobj,
			q_int(db, "SELECT value FROM meta WHERE key='table_raw_bytes'", 0),
			q_int(db, "SELECT value FROM meta WHERE key='table_frame_bytes'", 0));
	if (!nstatm) {
		fprintf(out, "\nNo samples in the readable part of the trace.\n");
		return ferror(out) ? -1 : 0;
	}

	/* Peaks. */
	int64_t peak_rss = q_int(db, "SELECT max(rss_bytes) FROM statm", 0);
	int64_t peak_rss_t = q_int(db, "SELECT t_ns FROM statm ORDER BY rss_bytes DESC, t_ns LIMIT 1", 0);
	int64_t end_rss = q_int(db, "SELECT rss_bytes FROM statm ORDER BY t_ns DESC LIMIT 1", 0);

	fprintf(out, "\nRSS  peak %s at %.1f s, end %s\n", hb(b1, sizeof(b1), (double)peak_rss),
		(double)(peak_rss_t - t0) / 1e9, hb(b2, sizeof(b2), (double)end_rss));
	int64_t peak_pss = q_int(db, "SELECT max(pss_kb) FROM smaps_read", -1);

	if (peak_pss >= 0) {
		int64_t peak_id = q_int(db, "SELECT id FROM smaps_read WHERE pss_kb IS NOT NULL "
					"ORDER BY pss_kb DESC, t_ns LIMIT 1", 0);
		int64_t peak_t = q_int(db, "SELECT t_ns FROM smaps_read WHERE pss_kb IS NOT NULL "
				       "ORDER BY pss_kb DESC, t_ns LIMIT 1", 0);
		int64_t end_pss = q_int(db, "SELECT pss_kb FROM smaps_read WHERE pss_kb IS NOT NULL "
					"ORDER BY t_ns DESC, id DESC LIMIT 1", 0);
		int64_t end_id = q_int(db, "SELECT id FROM smaps_read WHERE kind != 'rollup' "
				       "ORDER BY t_ns DESC, id DESC LIMIT 1", 0);
		int64_t end_t = q_int(db, "SELECT t_ns FROM smaps_read WHERE kind != 'rollup' "
				      "ORDER BY t_ns DESC, id DESC LIMIT 1", 0);
		/* The class breakdown needs a per-mapping read: the peak's, or the
		 * per-mapping read nearest before it when the peak was a rollup. */
		int64_t peak_full = q_int(db, "SELECT id FROM smaps_read WHERE kind != 'rollup' AND "
					  "t_ns <= (SELECT t_ns FROM smaps_read WHERE pss_kb IS NOT NULL "
					  "ORDER BY pss_kb DESC, t_ns LIMIT 1) ORDER BY t_ns DESC LIMIT 1",
					  peak_id);
		int64_t pk[GS_NCLASSES], ek[GS_NCLASSES], pk_sum = 0, ek_sum = 0;

		fprintf(out, "Pss  peak %s at %.1f s, end %s\n", hb(b1, sizeof(b1), 1024.0 * (double)peak_pss),
			(double)(peak_t - t0) / 1e9, hb(b2, sizeof(b2), 1024.0 * (double)end_pss));
		class_pss(db, peak_full, pk);
		class_pss(db, end_id, ek);
		for (int k = 0; k < GS_NCLASSES; k++) {
			pk_sum += pk[k];
			ek_sum += ek[k];
		}
		char q[128];

		snprintf(q, sizeof(q), "SELECT t_ns FROM smaps_read WHERE id = %" PRId64, peak_full);
		fprintf(out, "\nPss by memory class   at peak (%.1f s)      at end (%.1f s)     change\n",
			(double)(q_int(db, q, peak_t) - t0) / 1e9, (double)(end_t - t0) / 1e9);
		for (int k = 0; k < GS_NCLASSES; k++) {
			if (!pk[k] && !ek[k])
				continue;
			fprintf(out, "  %-16s %12s %5.1f%%  %12s %5.1f%%  %12s\n", gs_class_name(k),
				hb(b1, sizeof(b1), 1024.0 * (double)pk[k]),
				pk_sum ? 100.0 * (double)pk[k] / (double)pk_sum : 0.0,
				hb(b2, sizeof(b2), 1024.0 * (double)ek[k]),
				ek_sum ? 100.0 * (double)ek[k] / (double)ek_sum : 0.0,
				hb(b3, sizeof(b3), 1024.0 * (double)(ek[k] - pk[k])));
		}
		fprintf(out, "  %-16s %12s         %12s\n", "total", hb(b1, sizeof(b1), 1024.0 * (double)pk_sum),
			hb(b2, sizeof(b2), 1024.0 * (double)ek_sum));
	}

	/* Growth: least-squares slopes over the whole recording and its last 10 s. */
	char sql[512];
	double rs = slope(db, "SELECT count(*), sum(t_ns/1e9), sum(rss_bytes*1.0), "
			  "sum((t_ns/1e9)*(t_ns/1e9)), sum((t_ns/1e9)*rss_bytes) FROM statm");
	double ps = slope(db, "SELECT count(*), sum(t_ns/1e9), sum(pss_kb*1024.0), "
			  "sum((t_ns/1e9)*(t_ns/1e9)), sum((t_ns/1e9)*pss_kb*1024.0) FROM smaps_read "
			  "WHERE pss_kb IS NOT NULL");

	snprintf(sql, sizeof(sql), "SELECT count(*), sum(t_ns/1e9), sum(rss_bytes*1.0), "
		 "sum((t_ns/1e9)*(t_ns/1e9)), sum((t_ns/1e9)*rss_bytes) FROM statm WHERE t_ns >= %" PRId64,
		 tlast - (int64_t)10000000000);
	double rs10 = slope(db, sql);

	fprintf(out, "\nGrowth (least squares)   whole recording    last 10 s\n");
	fprintf(out, "  RSS                    %12s/s  %12s/s\n", isnan(rs) ? "-" : hb(b1, sizeof(b1), rs),
		isnan(rs10) ? "-" : hb(b2, sizeof(b2), rs10));
	fprintf(out, "  Pss                    %12s/s\n", isnan(ps) ? "-" : hb(b1, sizeof(b1), ps));

	go_section(db, out);
	if (q_int(db, "SELECT count(*) FROM fault", 0) > 0)
		top_stacks(db, out, "pss", q_int(db, "SELECT count(*) FROM heap_snapshot", 0) ?
			   "Pss at the end (the Go heap by the allocation stacks that hold it, other "
			   "memory by the code that made it resident)" :
			   "Pss at the end (which code made it resident)", 1);
	if (q_int(db, "SELECT count(*) FROM cpu_sample", 0) > 0)
		top_stacks(db, out, "cpu", "CPU samples", 0);

	/* cgroup */
	if (ncg && sqlite3_prepare_v2(db, "SELECT version, path, usage_bytes, limit_bytes, counters, "
				      "(SELECT max(usage_bytes) FROM cgroup) FROM cgroup ORDER BY t_ns DESC LIMIT 1",
				      -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW) {
			fprintf(out, "\ncgroup v%d %s: usage %s at end, peak %s, limit %s\n",
				sqlite3_column_int(s, 0), sqlite3_column_text(s, 1),
				hb(b1, sizeof(b1), (double)sqlite3_column_int64(s, 2)),
				hb(b2, sizeof(b2), (double)sqlite3_column_int64(s, 5)),
				sqlite3_column_type(s, 3) == SQLITE_NULL ? "none"
					: hb(b3, sizeof(b3), (double)sqlite3_column_int64(s, 3)));
			fprintf(out, "  events at end: %s\n", sqlite3_column_text(s, 4));
		}
		sqlite3_finalize(s);
	}
	return ferror(out) ? -1 : 0;
}
