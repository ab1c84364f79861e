/*
 * stacks.c - see stacks.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/smaps.h"
#include "stacks.h"

static uint64_t hash_stack(const uint64_t *pc, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ n;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ pc[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

/* Id of this stack, writing a STACK record the first time. -1 on error. */
int64_t stacks_id(struct stacks *c, const uint64_t *pc, uint32_t n)
{
	uint64_t h = hash_stack(pc, n);

	if (c->count * 2 >= c->size) {	/* grow the open-addressing table */
		uint32_t size = c->size ? c->size * 2 : 4096;
		struct stackent *t = calloc(size, sizeof(*t));

		if (!t)
			return -1;
		for (uint32_t i = 0; i < c->size; i++) {
			if (!c->tab[i].hash)
				continue;
			uint32_t j = (uint32_t)c->tab[i].hash & (size - 1);

			while (t[j].hash)
				j = (j + 1) & (size - 1);
			t[j] = c->tab[i];
		}
		free(c->tab);
		c->tab = t;
		c->size = size;
	}
	uint32_t j = (uint32_t)h & (c->size - 1);

	for (; c->tab[j].hash; j = (j + 1) & (c->size - 1))
		if (c->tab[j].hash == h && c->tab[j].n == n &&
		    !memcmp(c->tab[j].pc, pc, n * sizeof(*pc)))
			return c->tab[j].id;
	uint64_t *copy = malloc(n * sizeof(*pc) + 1);

	if (!copy)
		return -1;
	memcpy(copy, pc, n * sizeof(*pc));
	c->tab[j] = (struct stackent){ h, c->next_id++, n, copy };
	c->count++;
	struct gs_record r = { .type = GS_REC_STACK };

	r.u.stack = (struct gs_rec_stack){ c->tab[j].id, n, copy };
	if (gs_writer_add(c->w, &r) < 0)
		return -1;
	return c->tab[j].id;
}

void stacks_set_text(struct stacks *st, const struct gs_smaps *s)
{
	int n = 0;

	for (uint32_t i = 0; i < s->n && n < 256; i++)
		if (s->m[i].perms & GS_PERM_X) {
			st->text[n].lo = s->m[i].start;
			st->text[n++].hi = s->m[i].end;
		}
	st->ntext = n;
}

uint64_t stacks_code_or_zero(const struct stacks *st, uint64_t word)
{
	for (int i = 0; i < st->ntext; i++)
		if (word > st->text[i].lo && word <= st->text[i].hi)
			return word;
	return 0;
}

void stacks_free(struct stacks *s)
{
	for (uint32_t i = 0; i < s->size; i++)
		free(s->tab[i].pc);
	free(s->tab);
	memset(s, 0, sizeof(*s));
}
