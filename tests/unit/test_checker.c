/*
 * Checker mode (TDXSIM_CFG_CHECKER): the host's view of memory
 * (tdxsim_pa_to_ptr) loses access to TD-private pages; touching one prints
 * "tdxsim checker: host access to TD-private page PA 0x... (owner TDR 0x...,
 * type PT_...)" and aborts. Death tests fork: the child touches the page with
 * its stderr on a pipe, the parent checks it died of SIGABRT and what it said.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tsim_td.h"
#include "seam/pamt.h"
#include "sim/sim_int.h"

enum access { READ, WRITE };

struct death {
	int signaled, sig, exited, code;
	char err[2048];
};

/* Run fn(arg) in a child with stderr captured; collect how it ended. */
static struct death run_child(void (*fn)(void *), void *arg)
{
	struct death d;
	memset(&d, 0, sizeof(d));
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		signal(SIGABRT, SIG_DFL);
		fn(arg);
		_exit(0);               /* survived: the parent fails the test */
	}
	close(fds[1]);
	size_t n = 0;
	ssize_t r;
	while ((r = read(fds[0], d.err + n, sizeof(d.err) - 1 - n)) > 0)
		n += (size_t)r;
	close(fds[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	d.signaled = WIFSIGNALED(st);
	d.sig = d.signaled ? WTERMSIG(st) : 0;
	d.exited = WIFEXITED(st);
	d.code = d.exited ? WEXITSTATUS(st) : -1;
	return d;
}

struct touch {
	volatile uint8_t *p;
	enum access how;
};

static void do_touch(void *arg)
{
	struct touch *t = arg;
	if (t->how == READ) {
		uint8_t v = *t->p;
		(void)v;
	} else {
		*t->p = 0x5A;
	}
}

/* The child touching pa through the host view dies of SIGABRT with a report
 * naming the page, its owner and type. */
static void expect_death(tdxsim *s, uint64_t pa, enum access how, uint64_t owner,
			 const char *type)
{
	struct touch t = { .p = tdxsim_pa_to_ptr(s, pa), .how = how };
	assert_non_null(t.p);
	struct death d = run_child(do_touch, &t);
	if (!d.signaled || d.sig != SIGABRT)
		fail_msg("child %s (signal %d, exit %d), stderr: %s",
			 d.signaled ? "killed" : "exited", d.sig, d.code, d.err);
	char want[160];
	snprintf(want, sizeof(want),
		 "tdxsim checker: host access to TD-private page PA 0x%llx (owner TDR 0x%llx, type %s)",
		 (unsigned long long)(pa & ~0xFFFULL), (unsigned long long)owner, type);
	if (!strstr(d.err, want))
		fail_msg("stderr lacks \"%s\": %s", want, d.err);
}

static void expect_alive(tdxsim *s, uint64_t pa)
{
	struct touch t = { .p = tdxsim_pa_to_ptr(s, pa), .how = WRITE };
	struct death d = run_child(do_touch, &t);
	if (!d.exited || d.code != 0)
		fail_msg("child died (signal %d), stderr: %s", d.sig, d.err);
	/* And in this process too. */
	*t.p = 0;
}

static void env_checker(struct tsim_env *e)
{
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.flags = TDXSIM_CFG_CHECKER;
	tsim_env_init_cfg(e, &cfg);
}

/* Make the PAMT say what a leaf would have made of a page, then tell the
 * checker, as seam_page_set does. */
static void pamt_set(tdxsim *s, uint64_t pa, unsigned ps, unsigned type, uint64_t owner)
{
	struct seam_tdmr *t = pamt_get_block(&s->mod, pa);
	assert_non_null(t);
	struct tdx_pamt_entry *e = pamt_entry(s, t, pa, ps);
	e->w0 = ((uint64_t)type << PAMT_TYPE_SHIFT) | ((owner >> 12) << PAMT_OWNER_SHIFT);
	sim_checker_page(s, pa, TDX_PAGE_SIZE << (9 * ps), type != PT_NDA && type != PT_RSVD);
}

static void test_checker__two_views_alias(void **state)
{
	(void)state;
	struct tsim_env e;
	env_checker(&e);
	tdxsim *s = e.s;
	uint64_t pa = tsim_page(&e);
	uint8_t *host = tdxsim_pa_to_ptr(s, pa);
	assert_non_null(host);
	/* The host view is a mapping of its own... */
	assert_ptr_not_equal(host, phys_mem_ptr(&s->mem, pa));
	uint64_t back = 0;
	assert_int_equal(tdxsim_ptr_to_pa(s, host + 17, &back), TDXSIM_OK);
	assert_int_equal(back, pa + 17);
	assert_int_equal(tdxsim_ptr_to_pa(s, phys_mem_ptr(&s->mem, pa), &back), TDXSIM_ERR_RANGE);
	/* ...of the same memory, both ways. */
	host[5] = 0x42;
	uint8_t r = 0;
	assert_int_equal(tdxsim_mem_read(s, pa + 5, 0, &r, 1), TDXSIM_OK);
	assert_int_equal(r, 0x42);
	r = 0x99;
	assert_int_equal(tdxsim_mem_write(s, pa + 6, 0, &r, 1), TDXSIM_OK);
	assert_int_equal(host[6], 0x99);
	tsim_env_fini(&e);
}

static void test_checker__default_mode_one_view(void **state)
{
	(void)state;
	struct tsim_env e;
	tsim_env_init(&e);
	uint64_t pa = tsim_page(&e);
	assert_ptr_equal(tdxsim_pa_to_ptr(e.s, pa), phys_mem_ptr(&e.s->mem, pa));
	/* Without checker mode a private page stays reachable (not checked). */
	pamt_set(e.s, pa, TDX_PS_4K, PT_REG, tsim_page(&e));
	expect_alive(e.s, pa);
	tsim_env_fini(&e);
}

static void test_checker__private_page_read_dies(void **state)
{
	(void)state;
	struct tsim_env e;
	env_checker(&e);
	uint64_t tdr = tsim_page(&e), pa = tsim_page(&e);
	expect_alive(e.s, pa);
	pamt_set(e.s, pa, TDX_PS_4K, PT_REG, tdr);
	expect_death(e.s, pa + 100, READ, tdr, "PT_REG");
	/* The module's own accesses are unaffected. */
	uint8_t buf[64];
	assert_int_equal(tdxsim_mem_read(e.s, pa, 0, buf, sizeof(buf)), TDXSIM_OK);
	assert_int_equal(tdxsim_mem_write(e.s, pa, 0, buf, sizeof(buf)), TDXSIM_OK);
	/* Neighbours are host memory. */
	expect_alive(e.s, pa - 1);
	expect_alive(e.s, pa + 4096);
	/* Back to NDA: reachable again. */
	pamt_set(e.s, pa, TDX_PS_4K, PT_NDA, 0);
	expect_alive(e.s, pa);
	tsim_env_fini(&e);
}

static void test_checker__private_page_write_dies(void **state)
{
	(void)state;
	struct tsim_env e;
	env_checker(&e);
	uint64_t tdr = tsim_page(&e), pa = tsim_page(&e);
	pamt_set(e.s, pa, TDX_PS_4K, PT_EPT, tdr);
	expect_death(e.s, pa + 4095, WRITE, tdr, "PT_EPT");
	tsim_env_fini(&e);
}

/* A 2 MiB page: every 4 KiB inside is protected, reported by its own PA; a
 * 4 KiB entry below it turning NDA (as a promote leaves them) does not
 * unprotect it. */
static void test_checker__large_page(void **state)
{
	(void)state;
	struct tsim_env e;
	env_checker(&e);
	uint64_t tdr = tsim_page(&e), pa = tsim_page_2m(&e);
	pamt_set(e.s, pa, TDX_PS_2M, PT_REG, tdr);
	pamt_set(e.s, pa + 0x3000, TDX_PS_4K, PT_NDA, 0);
	expect_death(e.s, pa + 0x3010, READ, tdr, "PT_REG");
	expect_death(e.s, pa + (2 << 20) - 1, READ, tdr, "PT_REG");
	expect_alive(e.s, pa + (2 << 20));
	pamt_set(e.s, pa, TDX_PS_2M, PT_NDA, 0);
	expect_alive(e.s, pa + 0x3010);
	tsim_env_fini(&e);
}

/* A real TD: the TDR after MNG.CREATE, a TDCS page, a TD page after
 * PAGE.ADD; after teardown and RECLAIM every page is host memory again. */
static void test_checker__td_pages(void **state)
{
	(void)state;
	struct tsim_env e;
	env_checker(&e);
	struct tsim_td td;
	tsim_td_create(&e, &td);
	expect_death(e.s, td.tdr, READ, td.tdr, "PT_TDR");
	tsim_td_addcx(&td);
	expect_death(e.s, td.tdcs[2] + 8, WRITE, td.tdr, "PT_TDCX");
	struct tdx_td_params p;
	tsim_td_params(&e, &p, 0, 1);
	assert_tdx_status(TDX_SUCCESS, tsim_td_init_raw(&td, &p, NULL));
	struct tsim_vcpu *v = tsim_vcpu_add(&td, 0);
	expect_death(e.s, v->tdvpr, READ, td.tdr, "PT_TDVPR");
	uint64_t pa = tsim_page_add(&td, 0x200000, NULL, false);
	expect_death(e.s, pa + 64, READ, td.tdr, "PT_REG");
	expect_death(e.s, td.sept[0].pa, READ, td.tdr, "PT_EPT");
	/* The harness's shared pages stay reachable. */
	expect_alive(e.s, e.shared_pa);

	uint64_t tdr = td.tdr, tdcs = td.tdcs[2], tdvpr = v->tdvpr, sept = td.sept[0].pa;
	tsim_td_teardown(&td);
	expect_alive(e.s, tdr);
	expect_alive(e.s, tdcs);
	expect_alive(e.s, tdvpr);
	expect_alive(e.s, pa);
	expect_alive(e.s, sept);
	tsim_env_fini(&e);
}

/* Faults outside simulated memory go to the handler installed before. */
static void prev_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)si; (void)uc;
	static const char msg[] = "previous handler ran\n";
	ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)w;
	_exit(42);
}

static void touch_unmapped(void *arg)
{
	volatile uint8_t *p = arg;
	uint8_t v = *p;
	(void)v;
}

static void test_checker__foreign_fault_chains(void **state)
{
	(void)state;
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = prev_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGSEGV, &sa, &old), 0);
	struct tsim_env e;
	env_checker(&e);
	void *hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(hole != MAP_FAILED);
	struct death d = run_child(touch_unmapped, hole);
	assert_true(d.exited);
	assert_int_equal(d.code, 42);
	assert_non_null(strstr(d.err, "previous handler ran"));
	assert_null(strstr(d.err, "tdxsim checker"));
	/* Simulated memory is still checked. */
	uint64_t tdr = tsim_page(&e), pa = tsim_page(&e);
	pamt_set(e.s, pa, TDX_PS_4K, PT_TDCX, tdr);
	expect_death(e.s, pa, READ, tdr, "PT_TDCX");
	munmap(hole, 4096);
	tsim_env_fini(&e);
	sigaction(SIGSEGV, &old, NULL);
}

static void touch_default(void *arg)
{
	(void)arg;
	/* Default action, then a checker handle: ours goes on top of it. */
	signal(SIGSEGV, SIG_DFL);
	tdxsim_config cfg = TDXSIM_CONFIG_INIT;
	cfg.flags = TDXSIM_CFG_CHECKER;
	tdxsim *s = NULL;
	if (tdxsim_open(&cfg, &s) != TDXSIM_OK)
		_exit(3);
	volatile uint8_t *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t v = *p;
	(void)v;
}

/* With no previous handler the foreign fault kills the process as it would
 * have without tdxsim: SIGSEGV, no report. */
static void test_checker__foreign_fault_default(void **state)
{
	(void)state;
	struct death d = run_child(touch_default, NULL);
	if (!d.signaled || d.sig != SIGSEGV)
		fail_msg("child %s (signal %d, exit %d), stderr: %s",
			 d.signaled ? "killed" : "exited", d.sig, d.code, d.err);
	assert_null(strstr(d.err, "tdxsim checker"));
}

/* Several checker handles at once, each with its own memory. */
static void test_checker__two_handles(void **state)
{
	(void)state;
	struct tsim_env a, b;
	env_checker(&a);
	env_checker(&b);
	uint64_t tdr = tsim_page(&b), pa = tsim_page(&b);
	pamt_set(b.s, pa, TDX_PS_4K, PT_REG, tdr);
	expect_death(b.s, pa, READ, tdr, "PT_REG");
	expect_alive(a.s, pa);
	tsim_env_fini(&b);
	/* b closed: a still checked. */
	pamt_set(a.s, pa, TDX_PS_4K, PT_REG, tdr);
	expect_death(a.s, pa, WRITE, tdr, "PT_REG");
	tsim_env_fini(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker__two_views_alias),
		cmocka_unit_test(test_checker__default_mode_one_view),
		cmocka_unit_test(test_checker__private_page_read_dies),
		cmocka_unit_test(test_checker__private_page_write_dies),
		cmocka_unit_test(test_checker__large_page),
		cmocka_unit_test(test_checker__td_pages),
		cmocka_unit_test(test_checker__foreign_fault_chains),
		cmocka_unit_test(test_checker__foreign_fault_default),
		cmocka_unit_test(test_checker__two_handles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
