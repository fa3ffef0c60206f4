#include <sys/mman.h>
#include "seam/td.h"
#include <stdlib.h>
#include <string.h>

#include "seam/metadata_sys.h"
#include "seam/seam_mem.h"
#include "sim/sim_int.h"
#include "sim/trace.h"

int seam_module_init(struct seam_module *m, struct tdxsim *s)
{
	memset(m, 0, sizeof(*m));
	m->pkg_key_configured = calloc(s->n_pkgs, 1);
	m->kot = calloc(s->n_keyslots, sizeof(*m->kot));
	m->wbt = calloc(s->n_pkgs, sizeof(*m->wbt));
	pthread_mutex_init(&m->obj_mutex, NULL);
	m->obj_pages = s->mem.size >> 12;
	m->obj = mmap(NULL, m->obj_pages * sizeof(*m->obj), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->obj == MAP_FAILED)
		m->obj = NULL;
	if (!m->pkg_key_configured || !m->kot || !m->wbt || !m->obj)
		return -1;
	atomic_init(&m->state, TDX_SYSINIT_PENDING);
	md_sys_index_init(m);
	return 0;
}

void seam_module_fini(struct seam_module *m)
{
	seam_td_free_all(m);
	free(m->pkg_key_configured);
	m->pkg_key_configured = NULL;
	free(m->kot);
	m->kot = NULL;
	free(m->wbt);
	m->wbt = NULL;
	if (m->obj)
		munmap((void *)m->obj, m->obj_pages * sizeof(*m->obj));
	m->obj = NULL;
}

unsigned seam_other_lps_busy(struct seam_ctx *c)
{
	unsigned n = 0;
	atomic_thread_fence(memory_order_seq_cst);
	for (uint32_t i = 0; i < c->s->n_lps; i++)
		if (i != c->lp_id && atomic_load_explicit(&c->s->lps[i].seam.busy, memory_order_relaxed))
			n++;
	return n;
}

uint64_t seam_fault(struct seam_ctx *c, uint32_t kind)
{
	/* Count the points of each kind this call passes: an injected status
	 * records which one it came from, so a replay injects it at the same
	 * point (sim/replay.c). A leaf has at most a few kinds. */
	unsigned i = 0;
	while (i < 4 && c->point_n[i] && c->point_kind[i] != kind)
		i++;
	uint32_t n = 1;
	if (i < 4) {
		c->point_kind[i] = kind;
		n = ++c->point_n[i];
	}
	uint64_t st = sim_fault_check(c->s, c->lp, c->leaf, kind, &c->fault_seen);
	if (st)
		c->injected = (int)n;
	return st;
}

/* Lines last written through a private KeyID read as zeros through a shared one. */
static void zero_owned_lines(struct tdxsim *s, uint64_t pa, uint8_t *buf, uint64_t len)
{
	for (uint64_t i = 0; i < len;) {
		uint64_t n = 64 - ((pa + i) & 63);
		if (n > len - i)
			n = len - i;
		if (phys_mem_line_state(&s->mem, pa + i) & PHYS_LINE_TD_OWNER)
			memset(buf + i, 0, n);
		i += n;
	}
}

/*
 * Host memory is copied page by page under each page's RMW stripe lock, so
 * a copy never interleaves with an LP's encryption of the same page or the
 * host's tdxsim_mem_* access to it. (Simulated memory is a whole number of
 * GiB: a page is entirely backed or not at all.)
 */
static uint64_t page_piece(uint64_t pa, uint64_t left)
{
	uint64_t n = TDX_PAGE_SIZE - (pa & (TDX_PAGE_SIZE - 1));
	return n < left ? n : left;
}

void seam_read_pa(struct tdxsim *s, uint64_t pa, void *buf, uint64_t len)
{
	uint64_t pa_in = pa;
	uint8_t *b = buf;
	pa = seam_pa_strip(s, pa);
	for (uint64_t i = 0, n; i < len; i += n) {
		n = page_piece(pa + i, len - i);
		if (!phys_mem_contains(&s->mem, pa + i, n)) {
			memset(b + i, 0xFF, n);
			continue;
		}
		phys_mem_rmw_lock(&s->mem, pa + i);
		sim_mem_raw_locked(s, NULL, pa + i, n, SIM_RAW_READ_MASKED);
		memcpy(b + i, phys_mem_ptr(&s->mem, pa + i), n);
		zero_owned_lines(s, pa + i, b + i, n);
		phys_mem_rmw_unlock(&s->mem, pa + i);
	}
	if (atomic_load_explicit(&s->trace, memory_order_relaxed))
		sim_trace_mem_read(s, pa_in, buf, len);
}

void seam_write_pa(struct tdxsim *s, uint64_t pa, const void *buf, uint64_t len)
{
	const uint8_t *b = buf;
	pa = seam_pa_strip(s, pa);
	for (uint64_t i = 0, n; i < len; i += n) {
		n = page_piece(pa + i, len - i);
		if (!phys_mem_contains(&s->mem, pa + i, n))
			continue;
		phys_mem_rmw_lock(&s->mem, pa + i);
		sim_mem_raw_locked(s, NULL, pa + i, n, SIM_RAW_WRITE);
		memcpy(phys_mem_ptr(&s->mem, pa + i), b + i, n);
		/* A write through the shared KeyID, as the host's own: TD-owned
		 * lines lose ownership and are poisoned; cached copies revalidate. */
		phys_mem_write_shared(&s->mem, pa + i, n);
		phys_mem_bump(&s->mem, pa + i, n);
		phys_mem_rmw_unlock(&s->mem, pa + i);
	}
}
