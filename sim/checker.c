/*
 * Checker mode (TDXSIM_CFG_CHECKER, see tdxsim.h): host code that touches a
 * TD-private page through tdxsim_pa_to_ptr() dies with a report instead of
 * quietly reading ciphertext.
 *
 * Simulated memory is a memfd mapped twice (sim/phys_mem.c): the module
 * works through mem.base, always read-write; the host gets mem.host_base.
 * Every PAMT type change (seam_page_set) calls sim_checker_page(), which
 * makes the host view of the range PROT_NONE where the PAMT now says
 * TD-private, and read-write elsewhere. A host access then raises SIGSEGV;
 * our handler maps the address back to its simulator and page, prints the
 * page's PAMT owner and type, and aborts.
 *
 * Process-wide state. This file holds the one piece of global mutable state
 * in tdxsim, on purpose: a signal handler receives no user pointer, so the
 * only way from a faulting address back to the simulator owning it is a
 * table the handler can read. The table holds only pointers to the open
 * checker-mode handles (slots filled and emptied under a mutex, read with
 * atomic loads by the handler) and the SIGSEGV action that was in place
 * before ours, to which faults outside simulated memory are passed on.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "seam/pamt.h"
#include "sim/sim_int.h"

static _Atomic(tdxsim *) checker_handles[SIM_CHECKER_MAX];
static pthread_mutex_t checker_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction checker_prev;   /* the SIGSEGV action before ours */

/* ---- The PAMT's view of a page (no locks: also used in the handler) ---- */

static int private_type(unsigned type)
{
	return type != PT_NDA && type != PT_RSVD;
}

/* Leaf PAMT entry of the 4 KiB page at pa (a large page's entry covers it),
 * or NULL if pa is in no initialised TDMR block. */
static const struct tdx_pamt_entry *leaf_entry(tdxsim *s, uint64_t pa)
{
	struct seam_tdmr *t = pamt_get_block(&s->mod, pa);
	if (!t)
		return NULL;
	for (int lvl = TDX_PS_1G; lvl > TDX_PS_4K; lvl--) {
		const struct tdx_pamt_entry *e = pamt_entry(s, t, pa, (unsigned)lvl);
		if (pamt_type(e) != PT_NDA)
			return e;
	}
	return pamt_entry(s, t, pa, TDX_PS_4K);
}

static int page_private(tdxsim *s, uint64_t pa)
{
	const struct tdx_pamt_entry *e = leaf_entry(s, pa);
	if (!e)
		return 0;
	struct tdx_pamt_entry snap = { .w0 = __atomic_load_n(&e->w0, __ATOMIC_ACQUIRE) };
	return private_type(pamt_type(&snap));
}

static void set_prot(tdxsim *s, uint64_t pa, uint64_t len, int private)
{
	if (mprotect(phys_mem_host_ptr(&s->mem, pa), len,
		     private ? PROT_NONE : PROT_READ | PROT_WRITE))
		fprintf(stderr, "tdxsim checker: cannot %sprotect [0x%llx, +0x%llx) of the host "
			"view (vm.max_map_count reached?)\n", private ? "" : "un",
			(unsigned long long)pa, (unsigned long long)len);
}

/*
 * The PAMT changed for [pa, pa+len). The caller's `protect` says what it just
 * made of the range, but a large page and the 4 KiB entries under it change
 * in several steps (promote, demote), so each 4 KiB page's protection is
 * taken from the PAMT as it now reads, in runs of equal state.
 */
void sim_checker_page(tdxsim *s, uint64_t pa, uint64_t len, int protect)
{
	(void)protect;
	if (!s->checker || !len || !phys_mem_contains(&s->mem, pa, len))
		return;
	uint64_t run = pa;
	int run_priv = page_private(s, pa);
	for (uint64_t p = pa + TDX_PAGE_SIZE; p < pa + len; p += TDX_PAGE_SIZE) {
		int priv = page_private(s, p);
		if (priv == run_priv)
			continue;
		set_prot(s, run, p - run, run_priv);
		run = p;
		run_priv = priv;
	}
	set_prot(s, run, pa + len - run, run_priv);
}

/* ---- The SIGSEGV handler ---- */

static const char *type_name(unsigned type)
{
	switch (type) {
	case PT_NDA: return "PT_NDA";
	case PT_RSVD: return "PT_RSVD";
	case PT_REG: return "PT_REG";
	case PT_TDR: return "PT_TDR";
	case PT_TDCX: return "PT_TDCX";
	case PT_TDVPR: return "PT_TDVPR";
	case PT_EPT: return "PT_EPT";
	default: return "PT_unknown";
	}
}

/* Async-signal-safe message building (no stdio in the handler). */
struct msg {
	char b[256];
	size_t n;
};

static void put_str(struct msg *m, const char *s)
{
	while (*s && m->n < sizeof(m->b) - 1)
		m->b[m->n++] = *s++;
}

static void put_hex(struct msg *m, uint64_t v)
{
	char d[17];
	int i = 16;
	d[i] = 0;
	do {
		d[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	put_str(m, "0x");
	put_str(m, &d[i]);
}

static _Noreturn void report(tdxsim *s, uint64_t pa)
{
	struct msg m = { .n = 0 };
	uint64_t page = pa & ~(TDX_PAGE_SIZE - 1);
	const struct tdx_pamt_entry *e = leaf_entry(s, page);
	put_str(&m, "tdxsim checker: host access to TD-private page PA ");
	put_hex(&m, page);
	if (e) {
		struct tdx_pamt_entry snap = { .w0 = __atomic_load_n(&e->w0, __ATOMIC_ACQUIRE) };
		unsigned type = pamt_type(&snap);
		put_str(&m, " (owner TDR ");
		put_hex(&m, type == PT_TDR ? page : pamt_owner_pa(&snap));
		put_str(&m, ", type ");
		put_str(&m, type_name(type));
		put_str(&m, ")");
	}
	put_str(&m, " at host address ");
	put_hex(&m, (uint64_t)(uintptr_t)phys_mem_host_ptr(&s->mem, pa));
	put_str(&m, "\n");
	ssize_t w = write(STDERR_FILENO, m.b, m.n);
	(void)w;
	abort();
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	/* Only faults the kernel raised for an access (not kill/raise). */
	if (si->si_code > 0) {
		const uint8_t *a = si->si_addr;
		for (int i = 0; i < SIM_CHECKER_MAX; i++) {
			tdxsim *s = atomic_load_explicit(&checker_handles[i], memory_order_acquire);
			if (s && a >= s->mem.host_base && a < s->mem.host_base + s->mem.size)
				report(s, (uint64_t)(a - s->mem.host_base));
		}
	}
	/* Not ours: what would have happened without us. */
	struct sigaction prev = checker_prev;
	if (prev.sa_flags & SA_SIGINFO) {
		prev.sa_sigaction(sig, si, uc);
	} else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
		prev.sa_handler(sig);
	} else {
		/* Default action: returning re-executes the faulting access, which
		 * now kills the process; a sent signal is sent again. */
		signal(SIGSEGV, SIG_DFL);
		if (si->si_code <= 0)
			raise(SIGSEGV);
	}
}

/* Install the handler unless it is already the process's SIGSEGV action
 * (someone may have replaced it since, e.g. a test framework restoring its
 * own: then the current action becomes the one we pass faults on to). */
static void install_locked(void)
{
	struct sigaction cur;
	sigaction(SIGSEGV, NULL, &cur);
	if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_segv)
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	checker_prev = cur;
	sigaction(SIGSEGV, &sa, NULL);
}

int sim_checker_open(tdxsim *s)
{
	int ret = -1;
	pthread_mutex_lock(&checker_mutex);
	for (int i = 0; i < SIM_CHECKER_MAX; i++) {
		if (atomic_load_explicit(&checker_handles[i], memory_order_relaxed))
			continue;
		atomic_store_explicit(&checker_handles[i], s, memory_order_release);
		install_locked();
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&checker_mutex);
	return ret;
}

void sim_checker_close(tdxsim *s)
{
	pthread_mutex_lock(&checker_mutex);
	for (int i = 0; i < SIM_CHECKER_MAX; i++)
		if (atomic_load_explicit(&checker_handles[i], memory_order_relaxed) == s)
			atomic_store_explicit(&checker_handles[i], NULL, memory_order_release);
	pthread_mutex_unlock(&checker_mutex);
}
