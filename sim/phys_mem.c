#include "sim/phys_mem.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void *reserve(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Transparent huge pages would commit 2 MiB for every touched 4 KiB. */
	madvise(p, size, MADV_NOHUGEPAGE);
	return p;
}

/* Two shared mappings of one sparse memfd: writes through either are seen
 * through the other, and each can be protected on its own. */
static int two_views(struct phys_mem *m, uint64_t size)
{
	m->memfd = memfd_create("tdxsim-phys", MFD_CLOEXEC);
	if (m->memfd < 0)
		return -1;
	if (ftruncate(m->memfd, (off_t)size))
		return -1;
	for (int i = 0; i < 2; i++) {
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
			       m->memfd, 0);
		if (p == MAP_FAILED)
			return -1;
		*(i ? &m->host_base : &m->base) = p;
	}
	return 0;
}

/*
 * The whole physical address space is reserved with MAP_NORESERVE: the host
 * kernel commits a page only when it is first written, so a 1 TiB machine
 * costs what its software touches (a memfd is sparse the same way).
 */
int phys_mem_init(struct phys_mem *m, uint64_t size, int two)
{
	memset(m, 0, sizeof(*m));
	m->memfd = -1;
	m->size = size;
	if (two) {
		if (two_views(m, size)) {
			phys_mem_fini(m);
			return -1;
		}
	} else {
		m->base = reserve(size);
		m->host_base = m->base;
	}
	m->page_meta = reserve(size >> 12);
	m->line_meta = reserve(size >> 6);
	m->page_ver = reserve((size >> 12) * sizeof(uint32_t));
	m->page_lazy = reserve((size >> 12) * sizeof(uint16_t));
	m->lazy_slot = reserve(PHYS_LAZY_PLAIN_MAX * sizeof(*m->lazy_slot));
	m->lazy_buf = reserve((uint64_t)PHYS_LAZY_PLAIN_MAX * 4096);
	m->lazy_free = reserve(PHYS_LAZY_PLAIN_MAX * sizeof(uint16_t));
	m->lazy_cap = PHYS_LAZY_PLAIN_MAX;
	if (!m->base || !m->page_meta || !m->line_meta || !m->page_ver || !m->page_lazy ||
	    !m->lazy_slot || !m->lazy_buf || !m->lazy_free) {
		phys_mem_fini(m);
		return -1;
	}
	return 0;
}

void phys_mem_fini(struct phys_mem *m)
{
	if (m->host_base && m->host_base != m->base)
		munmap(m->host_base, m->size);
	if (m->base)
		munmap(m->base, m->size);
	if (m->memfd >= 0)
		close(m->memfd);
	if (m->page_meta)
		munmap(m->page_meta, m->size >> 12);
	if (m->line_meta)
		munmap(m->line_meta, m->size >> 6);
	if (m->page_ver)
		munmap(m->page_ver, (m->size >> 12) * sizeof(uint32_t));
	if (m->page_lazy)
		munmap(m->page_lazy, (m->size >> 12) * sizeof(uint16_t));
	/* Lazy-plaintext pages are dropped with the memory they stand for. */
	if (m->lazy_slot)
		munmap(m->lazy_slot, PHYS_LAZY_PLAIN_MAX * sizeof(*m->lazy_slot));
	if (m->lazy_buf)
		munmap(m->lazy_buf, (uint64_t)PHYS_LAZY_PLAIN_MAX * 4096);
	if (m->lazy_free)
		munmap(m->lazy_free, PHYS_LAZY_PLAIN_MAX * sizeof(uint16_t));
	memset(m, 0, sizeof(*m));
	m->memfd = -1;
}

/*
 * The caller holds the page's stripe lock, so only lock-free readers
 * (phys_mem_line_state) run concurrently: every byte is accessed
 * atomically, and a page becomes MIXED (release) only after its line bytes
 * hold the page's former state.
 */
static uint8_t page_get(const struct phys_mem *m, uint64_t page)
{
	return __atomic_load_n(&m->page_meta[page], __ATOMIC_RELAXED);
}

static void page_put(struct phys_mem *m, uint64_t page, uint8_t v)
{
	__atomic_store_n(&m->page_meta[page], v, __ATOMIC_RELEASE);
}

/* Make a page MIXED, materialising its line states. */
static uint8_t *mix(struct phys_mem *m, uint64_t page)
{
	uint8_t *lines = &m->line_meta[page << 6];
	uint8_t p = page_get(m, page);
	if (p != PAGE_MIXED) {
		uint8_t v = p == PAGE_OWNED ? PHYS_LINE_TD_OWNER : 0;
		for (unsigned i = 0; i < 64; i++)
			__atomic_store_n(&lines[i], v, __ATOMIC_RELAXED);
		page_put(m, page, PAGE_MIXED);
	}
	return lines;
}

typedef void (*line_fn)(uint8_t *line);

/* Apply: whole pages get page state `whole` (if >= 0), partial pages per line. */
static void apply(struct phys_mem *m, uint64_t pa, uint64_t len, int whole, line_fn fn)
{
	uint64_t end = pa + len;
	while (pa < end) {
		uint64_t page = pa >> 12, pend = (page + 1) << 12;
		if (whole >= 0 && !(pa & 4095) && end >= pend) {
			if (page_get(m, page) != whole)
				page_put(m, page, (uint8_t)whole);
			pa = pend;
			continue;
		}
		uint64_t stop = end < pend ? end : pend;
		if (whole < 0 && page_get(m, page) == PAGE_SHARED) {
			pa = stop;          /* nothing owned here: nothing to change */
			continue;
		}
		uint8_t *lines = mix(m, page);
		for (uint64_t l = (pa >> 6) & 63; l <= (((stop - 1) >> 6) & 63); l++)
			fn(&lines[l]);
		pa = stop;
	}
}

static void line_own(uint8_t *l) { __atomic_store_n(l, PHYS_LINE_TD_OWNER, __ATOMIC_RELAXED); }
static void line_clear(uint8_t *l) { __atomic_store_n(l, 0, __ATOMIC_RELAXED); }
static void line_shared_write(uint8_t *l)
{
	if (__atomic_load_n(l, __ATOMIC_RELAXED) & PHYS_LINE_TD_OWNER)
		__atomic_store_n(l, PHYS_LINE_POISON, __ATOMIC_RELAXED);
}

void phys_mem_set_owned(struct phys_mem *m, uint64_t pa, uint64_t len)
{
	apply(m, pa, len, PAGE_OWNED, line_own);
}

void phys_mem_write_shared(struct phys_mem *m, uint64_t pa, uint64_t len)
{
	apply(m, pa, len, -1, line_shared_write);
}

void phys_mem_clear_state(struct phys_mem *m, uint64_t pa, uint64_t len)
{
	apply(m, pa, len, PAGE_SHARED, line_clear);
}

void phys_mem_bump(struct phys_mem *m, uint64_t pa, uint64_t len)
{
	if (!len)
		return;
	for (uint64_t p = pa >> 12; p <= (pa + len - 1) >> 12; p++)
		__atomic_fetch_add(&m->page_ver[p], 1, __ATOMIC_RELEASE);
}
