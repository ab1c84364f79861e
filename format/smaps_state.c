/*
 * smaps_state.c - rebuilds the set of live mappings from keyframes and
 * deltas (FORMAT.md §6.3, §6.4). Readers that need "every mapping at this
 * read" keep one of these; the records alone only say what changed.
 */
#include <stdlib.h>
#include <string.h>

#include "trace.h"

void gs_smaps_state_init(struct gs_smaps_state *s)
{
	memset(s, 0, sizeof(*s));
}

static void drop(struct gs_smaps_state *s, uint32_t id)
{
	free((char *)s->m[id].path);
	free((char *)s->m[id].vmflags);
	s->m[id].path = s->m[id].vmflags = NULL;
	s->alive[id] = 0;
	s->live--;
}

static void clear(struct gs_smaps_state *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->alive[i])
			drop(s, i);
	s->n = 0;
}

void gs_smaps_state_free(struct gs_smaps_state *s)
{
	clear(s);
	free(s->m);
	free(s->alive);
	memset(s, 0, sizeof(*s));
}

static int add(struct gs_smaps_state *s, const struct gs_mapping *src)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 64;
		struct gs_mapping *m = realloc(s->m, cap * sizeof(*m));

		if (!m)
			return -1;
		s->m = m;
		uint8_t *alive = realloc(s->alive, cap);

		if (!alive)
			return -1;
		s->alive = alive;
		s->cap = cap;
	}
	struct gs_mapping *d = &s->m[s->n];

	*d = *src;
	d->path = strdup(src->path);
	d->vmflags = strdup(src->vmflags);
	if (!d->path || !d->vmflags) {
		free((char *)d->path);
		free((char *)d->vmflags);
		return -1;
	}
	s->alive[s->n++] = 1;
	s->live++;
	return 0;
}

/*
 * Does the delta name only live ids (each removed once; updates to ids still
 * live after the removals, or to the ones it adds)? Checked before anything
 * changes, so a delta that does not apply leaves the state as it was.
 */
static int delta_fits(struct gs_smaps_state *s, const struct gs_rec_smaps *r)
{
	uint32_t i;
	int ok = 1;

	for (i = 0; i < r->nremoved && ok; i++) {
		uint32_t id = r->removed[i];

		ok = id < s->n && s->alive[id] == 1;
		if (ok)
			s->alive[id] = 2;	/* removed: a second removal fails */
	}
	for (uint32_t j = 0; j < r->nupdated && ok; j++) {
		uint32_t id = r->updated[j].id;

		ok = id < s->n ? s->alive[id] == 1 : id - s->n < r->nadded;
	}
	for (uint32_t j = 0; j < i; j++)	/* put the marks back */
		if (r->removed[j] < s->n && s->alive[r->removed[j]] == 2)
			s->alive[r->removed[j]] = 1;
	return ok;
}

int gs_smaps_state_apply(struct gs_smaps_state *s, const struct gs_record *rec)
{
	const struct gs_rec_smaps *r = &rec->u.smaps;

	if (rec->type == GS_REC_SMAPS_KEY) {
		clear(s);
	} else if (rec->type != GS_REC_SMAPS_DELTA || s->serial == 0 || !delta_fits(s, r)) {
		return -1;	/* a delta needs a keyframe before it, and live ids */
	}
	for (uint32_t i = 0; i < r->nremoved; i++) {
		uint32_t id = r->removed[i];

		if (id >= s->n || !s->alive[id])
			return -1;
		drop(s, id);
	}
	for (uint32_t i = 0; i < r->nadded; i++)
		if (add(s, &r->added[i]) < 0)
			return -1;
	for (uint32_t i = 0; i < r->nupdated; i++) {
		const struct gs_smaps_update *u = &r->updated[i];

		if (u->id >= s->n || !s->alive[u->id])
			return -1;
		for (int f = 0; f < GS_SM_NFIELDS; f++)
			if (u->mask & (1u << f))
				s->m[u->id].v[f] = u->v[f];
	}
	s->t_ns = r->t_ns;
	s->serial++;
	return 0;
}
