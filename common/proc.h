/*
 * proc.h - reading /proc files: whole-file reads into a reusable buffer (so
 * a recorder's steady state allocates nothing), statm and stat parsing.
 */
#ifndef GS_PROC_H
#define GS_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gs_file {
	char *buf;		/* always NUL-terminated after a read */
	size_t len, cap;
};

/* Read the whole of fd from offset 0 (pread, so the fd can be kept open).
 * 0, or -1 with errno. */
int gs_file_pread(struct gs_file *f, int fd);
int gs_file_read_path(struct gs_file *f, const char *path);
void gs_file_free(struct gs_file *f);

/* /proc/PID/statm: size resident shared text lib data dt (pages). */
struct gs_statm {
	uint64_t size, resident, shared, text, data;
};
int gs_parse_statm(const char *text, struct gs_statm *out);

/* /proc/PID/stat: comm (between the first '(' and the last ')') and the
 * start time in clock ticks since boot (field 22). */
int gs_parse_stat(const char *text, char *comm, size_t commlen,
		  uint64_t *start_ticks, char *state);

uint64_t gs_now_ns(int clock);		/* clock_gettime in ns */
#endif
