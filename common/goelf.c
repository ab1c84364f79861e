/*
 * goelf.c - build-ids and Go build info, through libelf.
 *
 * .go.buildinfo starts with the 14-byte magic "\xff Go buildinf:", a pointer
 * size and a flags byte. With flag 2 (Go 1.18 and later) the version and the
 * module info follow at offset 32 as varint-prefixed strings; before that,
 * offset 16 holds two pointers to Go string headers {data, len}, which we
 * follow through the section table. Module info is wrapped in 16-byte
 * sentinels and holds lines "path\t<pkg>" and "mod\t<module>\t<ver>\t<sum>".
 */
#include <elf.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin.h"
#include "goelf.h"
#include "golayout.h"

#define BI_MAGIC "\xff Go buildinf:"
#define BI_MAGIC_LEN 14

static uint64_t uvarint(const uint8_t **p, const uint8_t *end, int *bad)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	*bad = 1;
	return 0;
}

static uint64_t rd_ptr(const uint8_t *p, int ptrsize, int big)
{
	uint64_t v = 0;

	for (int i = 0; i < ptrsize; i++)
		v |= (uint64_t)p[big ? ptrsize - 1 - i : i] << (8 * i);
	return v;
}

static void set_modinfo(struct gs_exe_info *out, const char *mi, size_t n)
{
	/* strip the sentinels: 16 bytes each side, the last before the end '\n' */
	if (n >= 33 && mi[n - 17] == '\n') {
		mi += 16;
		n -= 32;
	}
	char path[sizeof(out->go_module)] = "";

	for (size_t i = 0; i < n;) {
		const char *line = mi + i, *eol = memchr(line, '\n', n - i);
		size_t len = eol ? (size_t)(eol - line) : n - i;

		if (len > 5 && !memcmp(line, "path\t", 5) && !path[0])
			snprintf(path, sizeof(path), "%.*s", (int)(len - 5), line + 5);
		if (len > 4 && !memcmp(line, "mod\t", 4)) {
			const char *tab = memchr(line + 4, '\t', len - 4);
			size_t ml = tab ? (size_t)(tab - line - 4) : len - 4;

			snprintf(out->go_module, sizeof(out->go_module), "%.*s", (int)ml, line + 4);
		}
		i += len + 1;
	}
	if (!out->go_module[0])
		snprintf(out->go_module, sizeof(out->go_module), "%s", path);
}

static int read_gostring(gs_read_va_fn read_va, void *ctx, uint64_t hdr_va,
			 int ptrsize, int big, char *dst, size_t dstlen,
			 char **heap, size_t *heaplen)
{
	uint8_t hdr[16];
	uint64_t data, len;

	if (!read_va || read_va(ctx, hdr_va, hdr, (size_t)ptrsize * 2) < 0)
		return -1;
	data = rd_ptr(hdr, ptrsize, big);
	len = rd_ptr(hdr + ptrsize, ptrsize, big);
	if (len > (1u << 20))
		return -1;
	if (heap) {
		*heap = malloc(len + 1);
		if (!*heap || read_va(ctx, data, *heap, len) < 0)
			return -1;
		*heaplen = len;
		return 0;
	}
	if (len >= dstlen)
		len = dstlen - 1;
	if (read_va(ctx, data, dst, len) < 0)
		return -1;
	dst[len] = 0;
	return 0;
}

int gs_parse_buildinfo(const uint8_t *d, size_t n, gs_read_va_fn read_va,
		       void *ctx, struct gs_exe_info *out)
{
	if (n < 32 || memcmp(d, BI_MAGIC, BI_MAGIC_LEN))
		return -1;
	int ptrsize = d[14], flags = d[15], big = flags & 1;

	if (flags & 2) {
		const uint8_t *p = d + 32, *end = d + n;
		int bad = 0;
		uint64_t vl = uvarint(&p, end, &bad);

		if (bad || vl > (uint64_t)(end - p) || vl >= sizeof(out->go_version))
			return -1;
		memcpy(out->go_version, p, vl);
		out->go_version[vl] = 0;
		p += vl;
		uint64_t ml = uvarint(&p, end, &bad);

		if (!bad && ml <= (uint64_t)(end - p))
			set_modinfo(out, (const char *)p, ml);
		return 0;
	}
	if (ptrsize != 4 && ptrsize != 8)
		return -1;
	char *mi = NULL;
	size_t ml = 0;

	if (read_gostring(read_va, ctx, rd_ptr(d + 16, ptrsize, big), ptrsize, big,
			  out->go_version, sizeof(out->go_version), NULL, NULL) < 0)
		return -1;
	if (read_gostring(read_va, ctx, rd_ptr(d + 16 + ptrsize, ptrsize, big), ptrsize,
			  big, NULL, 0, &mi, &ml) == 0)
		set_modinfo(out, mi, ml);
	free(mi);
	return 0;
}

/* Virtual address reads through the section table (for pre-1.18 buildinfo). */
static int elf_read_va(void *ctx, uint64_t va, void *buf, size_t len)
{
	Elf *e = ctx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
		    va < sh.sh_addr || va - sh.sh_addr > sh.sh_size ||
		    len > sh.sh_size - (va - sh.sh_addr))
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);

		if (!data || !data->d_buf || data->d_size < sh.sh_size)
			return -1;
		memcpy(buf, (char *)data->d_buf + (va - sh.sh_addr), len);
		return 0;
	}
	return -1;
}

static void read_notes(Elf_Data *data, struct gs_exe_info *out)
{
	GElf_Nhdr nh;
	size_t off = 0, name_off, desc_off;

	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const char *name = (const char *)data->d_buf + name_off;
		const uint8_t *desc = (const uint8_t *)data->d_buf + desc_off;

		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && !memcmp(name, "GNU", 4) &&
		    nh.n_descsz <= sizeof(out->build_id)) {
			memcpy(out->build_id, desc, nh.n_descsz);
			out->build_id_len = nh.n_descsz;
		} else if (nh.n_type == 4 && nh.n_namesz >= 3 && !memcmp(name, "Go", 3)) {
			size_t k = nh.n_descsz < sizeof(out->go_build_id) - 1
					   ? nh.n_descsz : sizeof(out->go_build_id) - 1;

			memcpy(out->go_build_id, desc, k);
			out->go_build_id[k] = 0;
		}
	}
}

int gs_elf_symbols(Elf *e, const char *const *names, int n, uint64_t *values)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int found = 0;

	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t count = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;

		for (size_t i = 0; d && i < count; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, (int)i, &sym) ||
			    !(name = elf_strptr(e, sh.sh_link, sym.st_name)))
				continue;
			for (int k = 0; k < n; k++)
				if (!strcmp(name, names[k])) {
					values[k] = sym.st_value;
					found++;
				}
		}
	}
	return found;
}

int gs_exe_info_read(int fd, struct gs_exe_info *out)
{
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		snprintf(out->err, sizeof(out->err), "not an ELF file");
		goto out;
	}
	out->is_elf = 1;
	ret = 0;
	if (elf_getshdrstrndx(e, &shstrndx) < 0) {
		snprintf(out->err, sizeof(out->err), "no section headers: %s", elf_errmsg(-1));
		goto out;
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(e, shstrndx, sh.sh_name)))
			continue;
		if (sh.sh_type == SHT_NOTE) {
			Elf_Data *d = elf_getdata(scn, NULL);

			if (d)
				read_notes(d, out);
		}
		if (!strcmp(name, ".gopclntab") || !strcmp(name, ".data.rel.ro.gopclntab"))
			out->is_go = 1;
		if (!strcmp(name, ".go.buildinfo")) {
			Elf_Data *d = elf_getdata(scn, NULL);

			out->is_go = 1;
			if (!d || !d->d_buf ||
			    gs_parse_buildinfo(d->d_buf, d->d_size, elf_read_va, e, out) < 0)
				snprintf(out->err, sizeof(out->err),
					 "unreadable .go.buildinfo: Go version unknown");
			else if (out->go_version[0])
				out->go_version_source = "buildinfo";
		}
	}
	if (out->is_go && !out->go_version[0]) {
		/* no build info: the runtime's own version string */
		struct gs_gobin gb;
		char err[256];

		if (gs_gobin_load(fd, &gb, err, sizeof(err)) == 0) {
			if (gs_go_version_find(fd, &gb, out->go_version, sizeof(out->go_version),
					       &out->go_version_source) == 0)
				out->err[0] = 0;
			gs_gobin_free(&gb);
		}
		if (!out->go_version[0] && !out->err[0])
			snprintf(out->err, sizeof(out->err), "no .go.buildinfo, and runtime.buildVersion "
				 "not found: Go version unknown");
	}
out:
	if (e)
		elf_end(e);
	return ret;
}
