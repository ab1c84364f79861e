/*
 * gsreport.h - shared declarations of gsreport's parts.
 */
#ifndef GS_GSREPORT_H
#define GS_GSREPORT_H

#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>

#include "format/trace.h"

/* Bumped when the database schema changes: older databases are re-imported. */
#define GS_SCHEMA_VERSION 10

/* Exit codes (README.md "Exit codes"). */
enum {
	RX_OK = 0, RX_INTERNAL = 1, RX_USAGE = 2, RX_INPUT = 3, RX_BADTRACE = 4,
	RX_OUTPUT = 5, RX_NODATA = 6,
};

/* Stream the trace behind r into db (an empty database). 0 or -1 (err). */
int gs_import(sqlite3 *db, struct gs_reader *r, const char *trace_path,
	      const struct stat *st, int progress, char *err, size_t errlen);

int gs_timeline(sqlite3 *db, FILE *out, int json);
/* timeline --align gc. 0 or -1; msg gets the floors' verdict (or why none). */
int gs_timeline_gc(sqlite3 *db, FILE *out, int json, char *msg, size_t msglen);
const char *gs_table_kind_name(unsigned kind);
int gs_summary(sqlite3 *db, FILE *out);
/* One row per GC cycle. 0 or -1; msg says when the rows are estimates or none. */
int gs_gc(sqlite3 *db, FILE *out, int json, char *msg, size_t msglen);

struct gs_folded_opts {
	const char *weight;		/* pss, cpu, faults, fault-bytes */
	const char *at;			/* pss: end, peak or seconds */
	const char *from, *to;		/* pss-growth: seconds (or end/peak) */
	int64_t cycle;			/* heap: a GC cycle, -1 for --at */
	int by_goroutine, no_class, no_mapping, unit_kb;
};
/* Folded stacks (flamegraph.pl input). 0, -1 on output errors, 1 when
 * the trace has no data for that weight (msg says so). */
int gs_folded(sqlite3 *db, FILE *out, const struct gs_folded_opts *o, char *msg, size_t msglen);

/* Stacks of the stack table, symbolized as folded prints them: frames root
 * first, joined by ';' (valid until the next call). leaf_returns: the
 * innermost pc is a return address too (goroutine stacks). */
struct gs_stacks;
struct gs_stacks *gs_stacks_open(sqlite3 *db, int leaf_returns);
const char *gs_stacks_text(struct gs_stacks *s, int64_t id, uint64_t sp_word);
void gs_stacks_close(struct gs_stacks *s);
/* The same for the heap profile's stacks: one logical frame a pc, the
 * runtime's allocation frames left out (folded.c, struct symctx). */
struct gs_stacks *gs_stacks_open_heap(sqlite3 *db);

struct gs_heap_opts {
	const char *at;			/* end, peak or seconds */
	int64_t cycle;			/* or a GC cycle, -1 */
	int top, sites, json;
};
/* `gsreport heap`. 0, -1 on output errors, 1 when the trace has no heap
 * profile (msg says why). */
int gs_heap_report(sqlite3 *db, FILE *out, const struct gs_heap_opts *o, char *msg,
		   size_t msglen);
/* A line for each of the first max likely heap leaks; returns how many there are, -1 on errors. */
int gs_heap_leaks(sqlite3 *db, FILE *out, int max);

struct gs_goroutines_opts {
	const char *at;			/* end, peak or seconds */
	int top, sites, json;
};
/* `gsreport goroutines`. 0, -1 on output errors, 1 when the trace has no
 * census (msg says why). */
int gs_goroutines(sqlite3 *db, FILE *out, const struct gs_goroutines_opts *o, char *msg,
		  size_t msglen);
/* A line for each of the first max likely leaks; returns how many there are, -1 on errors. */
int gs_goroutine_leaks(sqlite3 *db, FILE *out, int max);

#endif
