/*
 * objects.c - makes a trace self-contained: for every executable and shared
 * object the target maps, its identity (path, device, inode, build-ids, load
 * segments) and the tables that symbolize any pc in it, written once per
 * trace (FORMAT.md §6.12, §6.13):
 *  - Go objects: the raw pclntab and the inline trees (common/gobin.c);
 *  - every object: its function symbols from .symtab, or .dynsym when
 *    stripped (for a Go object only those pclntab does not cover: cgo's C).
 * Tables go in frames of their own, so a reader can tell what they cost.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/gobin.h"
#include "common/goelf.h"
#include "common/golayout.h"
#include "objects.h"

struct sym {
	uint64_t value, size;
	const char *name;
};

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->value < y->value ? -1 : x->value > y->value;
}

/*
 * Function symbols, serialized (GS_TAB_ELF_SYMBOLS). With pcln, symbols at
 * the entry of a Go function are left out: pclntab already names them.
 */
static int elf_symbols(Elf *e, const struct gs_pcln *pcln, uint8_t **out, size_t *outlen)
{
	Elf_Scn *scn = NULL, *best = NULL;
	GElf_Shdr sh, bsh = { 0 };
	struct sym *s = NULL;
	size_t n = 0, cap = 0;

	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || (sh.sh_type == SHT_DYNSYM && !best)) {
			best = scn;
			bsh = sh;
		}
	}
	*out = NULL;
	*outlen = 0;
	if (!best)
		return 0;
	Elf_Data *d = elf_getdata(best, NULL);
	size_t count = bsh.sh_entsize ? bsh.sh_size / bsh.sh_entsize : 0;

	for (size_t i = 0; d && i < count; i++) {
		GElf_Sym sym;
		const char *name;
		struct gs_func f;

		if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value ||
		    (GELF_ST_TYPE(sym.st_info) != STT_FUNC && GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC) ||
		    !(name = elf_strptr(e, bsh.sh_link, sym.st_name)) || !*name)
			continue;
		if (pcln && gs_pcln_find(pcln, sym.st_value, &f) == 0 && f.entry == sym.st_value)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			struct sym *t = realloc(s, cap * sizeof(*s));

			if (!t) {
				free(s);
				return -1;
			}
			s = t;
		}
		s[n++] = (struct sym){ sym.st_value, sym.st_size, name };
	}
	qsort(s, n, sizeof(*s), cmp_sym);
	struct gs_buf body = { 0 }, head = { 0 };
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		if (i && s[i].value == s[i - 1].value)
			continue;	/* aliases: keep the first */
		size_t nl = strlen(s[i].name);

		gs_buf_uv(&body, s[i].value);
		gs_buf_uv(&body, s[i].size);
		gs_buf_uv(&body, nl);
		gs_buf_bytes(&body, s[i].name, nl);
		kept++;
	}
	free(s);
	gs_buf_uv(&head, kept);		/* FORMAT.md §6.13 kind 3 */
	gs_buf_bytes(&head, body.p, body.len);
	gs_buf_release(&body);
	if (head.oom) {
		gs_buf_release(&head);
		return -1;
	}
	*out = head.p;
	*outlen = head.len;
	return 0;
}

static int write_table(struct gs_writer *w, uint32_t id, uint32_t kind,
		       const uint8_t *data, size_t len)
{
	struct gs_record r = { .type = GS_REC_OBJECT_TABLE };

	for (size_t off = 0; off < len || (off == 0 && len == 0); off += GS_TABLE_CHUNK) {
		size_t n = len - off < GS_TABLE_CHUNK ? len - off : GS_TABLE_CHUNK;

		r.u.table = (struct gs_rec_object_table){ id, kind, len, off, data + off,
							  (uint32_t)n };
		if (gs_writer_add(w, &r) < 0)
			return -1;
		if (len == 0)
			break;
	}
	return 0;
}

/* Load the object open at fd and write it. 0, or -1 with errno (writer). */
static int write_object(struct objects *o, int fd, const char *path, uint64_t dev,
			uint64_t inode, int main_exe)
{
	struct gs_exe_info info;
	struct gs_gobin gb;
	struct gs_segment seg[16];
	uint32_t nseg = 0, flags = main_exe ? GS_OBJ_MAIN : 0;
	uint8_t *syms = NULL;
	size_t nsyms = 0;
	char err[256];
	int have_go, ret = -1;
	Elf *e;
	GElf_Ehdr eh;

	gs_exe_info_read(fd, &info);
	have_go = gs_gobin_load(fd, &gb, err, sizeof(err)) == 0;
	if (have_go)
		flags |= GS_OBJ_GO;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && gelf_getehdr(e, &eh)) {
		size_t nph = 0;

		if (eh.e_type == ET_DYN)
			flags |= GS_OBJ_DYN;
		elf_getphdrnum(e, &nph);
		for (size_t i = 0; i < nph && nseg < 16; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD)
				seg[nseg++] = (struct gs_segment){ ph.p_offset, ph.p_vaddr, ph.p_filesz,
								   ph.p_memsz, ph.p_flags };
		}
		elf_symbols(e, have_go ? &gb.pcln : NULL, &syms, &nsyms);
	}
	if (e)
		elf_end(e);

	uint32_t id = o->next_id++;
	struct gs_record r = { .type = GS_REC_OBJECT };

	r.u.object = (struct gs_rec_object){ id, flags, path, dev, inode, info.build_id,
		info.build_id_len, info.go_build_id, info.go_version, nseg, seg };
	/* Frames of their own: flush before and after. */
	if (gs_writer_flush(o->w) < 0 || gs_writer_add(o->w, &r) < 0)
		goto out;
	if (have_go && (write_table(o->w, id, GS_TAB_GO_PCLNTAB, gb.pclntab, gb.pclntab_len) < 0 ||
			write_table(o->w, id, GS_TAB_GO_INLTREE, gb.inltab, gb.inltab_len) < 0))
		goto out;
	if (nsyms && write_table(o->w, id, GS_TAB_ELF_SYMBOLS, syms, nsyms) < 0)
		goto out;
	if (have_go && gb.pcln.version >= GS_PCLN_118) {
		struct gs_buf t = { 0 };	/* FORMAT.md §6.13 kind 4 */

		gs_buf_uv(&t, gb.pcln.text_start);
		gs_buf_uv(&t, strlen(gb.text_source));
		gs_buf_bytes(&t, gb.text_source, strlen(gb.text_source));
		if (t.oom || write_table(o->w, id, GS_TAB_GO_TEXT, t.p, t.len) < 0) {
			gs_buf_release(&t);
			goto out;
		}
		gs_buf_release(&t);
	}
	if (have_go) {
		struct gs_layout lay;
		struct gs_layout_entry ent[GS_LAY_N];
		struct gs_record lr = { .type = GS_REC_GO_LAYOUT };

		gs_layout_find(fd, &gb, info.go_version, 0, &lay);
		for (int i = 0; i < GS_LAY_N; i++)
			ent[i] = (struct gs_layout_entry){ gs_lay_name(i), lay.v[i], lay.src[i] };
		lr.u.layout = (struct gs_rec_go_layout){ id, GS_LAY_N, ent };
		if (gs_writer_add(o->w, &lr) < 0)
			goto out;
		if (main_exe && lay.note[0])
			snprintf(o->layout_note, sizeof(o->layout_note), "%s", lay.note);
		if (main_exe) {
			o->main_go_id = id;
			o->main_goid = lay.v[GS_G_GOID];
			o->main_g_m = lay.v[GS_G_M];
			o->main_m_curg = lay.v[GS_M_CURG];
		}
	}
	if (gs_writer_flush(o->w) < 0)
		goto out;
	o->table_bytes += (have_go ? gb.pclntab_len + gb.inltab_len : 0) + nsyms;
	ret = 0;
out:
	if (have_go)
		gs_gobin_free(&gb);
	free(syms);
	return ret;
}

static int known(struct objects *o, uint64_t dev, uint64_t inode)
{
	for (uint32_t i = 0; i < o->n; i++)
		if (o->key[i].dev == dev && o->key[i].inode == inode)
			return 1;
	return 0;
}

static int remember(struct objects *o, uint64_t dev, uint64_t inode)
{
	if (o->n == o->cap) {
		uint32_t cap = o->cap ? o->cap * 2 : 32;
		struct objkey *k = realloc(o->key, cap * sizeof(*k));

		if (!k)
			return -1;
		o->key = k;
		o->cap = cap;
	}
	o->key[o->n++] = (struct objkey){ dev, inode };
	return 0;
}

void objects_init(struct objects *o, pid_t pid, struct gs_writer *w)
{
	memset(o, 0, sizeof(*o));
	o->pid = pid;
	o->w = w;
	o->main_goid = o->main_g_m = o->main_m_curg = o->main_go_id = -1;
}

void objects_free(struct objects *o)
{
	free(o->key);
	memset(o, 0, sizeof(*o));
}

int objects_scan(struct objects *o, const struct gs_smaps *s, const char *exe_path)
{
	for (uint32_t i = 0; i < s->n; i++) {
		const struct gs_mapping *m = &s->m[i];
		uint64_t dev = makedev(m->dev_major, m->dev_minor);
		char path[96];
		int fd, main_exe;

		if (!(m->perms & GS_PERM_X) || !m->inode || m->path[0] != '/' ||
		    known(o, dev, m->inode))
			continue;
		if (remember(o, dev, m->inode) < 0)
			return -1;
		main_exe = exe_path && !strcmp(m->path, exe_path);
		/* map_files reaches the very file mapped, even if deleted or replaced */
		snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", (int)o->pid,
			 (unsigned long)m->start, (unsigned long)m->end);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && main_exe) {
			snprintf(path, sizeof(path), "/proc/%d/exe", (int)o->pid);
			fd = open(path, O_RDONLY | O_CLOEXEC);
		}
		if (fd < 0)
			fd = open(m->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			o->unreadable++;
			continue;
		}
		int r = write_object(o, fd, m->path, dev, m->inode, main_exe);

		close(fd);
		if (r < 0)
			return -1;
		o->written++;
	}
	return 0;
}
