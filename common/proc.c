/*
 * proc.c - /proc helpers shared by gsrec and the tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

int gs_file_pread(struct gs_file *f, int fd)
{
	f->len = 0;
	for (;;) {
		if (f->cap - f->len < 4096 + 1) {
			size_t cap = f->cap ? f->cap * 2 : 65536;
			char *p = realloc(f->buf, cap);

			if (!p)
				return -1;
			f->buf = p;
			f->cap = cap;
		}
		ssize_t k = pread(fd, f->buf + f->len, f->cap - f->len - 1, (off_t)f->len);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0)
			break;
		f->len += (size_t)k;
	}
	f->buf[f->len] = 0;
	return 0;
}

int gs_file_read_path(struct gs_file *f, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	int ret = gs_file_pread(f, fd);
	int saved = errno;

	close(fd);
	errno = saved;
	return ret;
}

void gs_file_free(struct gs_file *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

/* Read 100 times a second: parsed by hand, not with sscanf. */
int gs_parse_statm(const char *text, struct gs_statm *out)
{
	uint64_t v[7];
	const char *p = text;

	for (int i = 0; i < 7; i++) {
		if (*p < '0' || *p > '9')
			return -1;
		v[i] = 0;
		while (*p >= '0' && *p <= '9')
			v[i] = v[i] * 10 + (uint64_t)(*p++ - '0');
		if (i < 6 && *p++ != ' ')
			return -1;
	}
	*out = (struct gs_statm){ v[0], v[1], v[2], v[3], v[5] };
	return 0;
}

int gs_parse_stat(const char *text, char *comm, size_t commlen,
		  uint64_t *start_ticks, char *state)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')');

	if (!open || !close || close < open)
		return -1;
	size_t n = (size_t)(close - open - 1);

	if (n >= commlen)
		n = commlen - 1;
	memcpy(comm, open + 1, n);
	comm[n] = 0;
	/* After ")": field 3 (state) ... field 22 (starttime). */
	const char *p = close + 1;
	char st;
	uint64_t v;
	int field = 4;	/* p is moved to the space before field 4 */

	if (sscanf(p, " %c", &st) != 1)
		return -1;
	if (state)
		*state = st;
	p += 2;
	while (field < 22) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
		field++;
	}
	if (sscanf(p, " %" SCNu64, &v) != 1)
		return -1;
	*start_ticks = v;
	return 0;
}

uint64_t gs_now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
