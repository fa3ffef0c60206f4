#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

tdxsim_info kh_info;
struct kh_event *kh_ev;
size_t kh_nev;
static size_t kh_cap;
struct kh_tdmr kh_tdmrs[64];
unsigned kh_ntdmrs;

void kh_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "  %s:%d: CHECK(%s) failed", file, line, cond);
	if (fmt[0] && fmt[1]) {
		fprintf(stderr, ":");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "\n");
	if (kshim_rt_sim()) {
		fprintf(stderr, "  WARNs: %u, live allocations: %lu, SEAMCALLs recorded: %zu\n",
			kshim_rt_warn_count(), kshim_rt_live_allocs(-1), kh_nev);
		kshim_rt_log_dump();
	}
}

static void record_tdmrs(tdxsim *s, const tdxsim_seamcall_event *e)
{
	uint64_t n = e->in.rdx, pas[64];
	if (n > 64)
		return;
	if (tdxsim_mem_read(s, e->in.rcx, 0, pas, n * sizeof(uint64_t)))
		return;
	kh_ntdmrs = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t[8];  /* base, size, 1G base/size, 2M base/size, 4K base/size */
		if (tdxsim_mem_read(s, pas[i], 0, t, sizeof(t)))
			return;
		kh_tdmrs[i] = (struct kh_tdmr){
			.base = t[0], .size = t[1],
			.pamt_base = { t[6], t[4], t[2] }, .pamt_size = { t[7], t[5], t[3] },
		};
		kh_ntdmrs = (unsigned)i + 1;
	}
}

static void hook(void *user, const tdxsim_seamcall_event *e)
{
	tdxsim *s = user;
	if (kh_nev == kh_cap) {
		kh_cap = kh_cap ? kh_cap * 2 : 4096;
		kh_ev = realloc(kh_ev, kh_cap * sizeof(*kh_ev));
		if (!kh_ev)
			abort();
	}
	struct kh_event *k = &kh_ev[kh_nev++];
	k->lp = e->lp;
	k->rax = e->rax_in;
	k->leaf = (e->rax_in >> 63) ? 0xFFFFFFFFu : (uint32_t)(e->rax_in & 0xFFFF);
	k->status = e->status;
	k->in = e->in;
	k->out = e->out;
	if (k->leaf == 45 && e->status == 0)
		record_tdmrs(s, e);
}

void kh_rec_reset(void)
{
	kh_nev = 0;
}

unsigned kh_count(uint64_t leaf)
{
	unsigned n = 0;
	for (size_t i = 0; i < kh_nev; i++)
		n += kh_ev[i].leaf == leaf;
	return n;
}

unsigned kh_count_lp(uint64_t leaf, unsigned lp)
{
	unsigned n = 0;
	for (size_t i = 0; i < kh_nev; i++)
		n += kh_ev[i].leaf == leaf && kh_ev[i].lp == lp;
	return n;
}

long kh_first(uint64_t leaf)
{
	for (size_t i = 0; i < kh_nev; i++)
		if (kh_ev[i].leaf == leaf)
			return (long)i;
	return -1;
}

long kh_last(uint64_t leaf)
{
	for (size_t i = kh_nev; i-- > 0;)
		if (kh_ev[i].leaf == leaf)
			return (long)i;
	return -1;
}

tdxsim *kh_boot(const tdxsim_config *cfg, const struct kshim_rt_memmap *mm)
{
	tdxsim *s = NULL;
	tdxsim_err err = tdxsim_open(cfg, &s);
	if (err) {
		fprintf(stderr, "tdxsim_open: %s\n", tdxsim_strerror(err));
		exit(2);
	}
	kh_info.size = sizeof(kh_info);
	if (tdxsim_info_get(s, &kh_info) || tdxsim_hook_seamcall(s, hook, s, NULL)) {
		fprintf(stderr, "tdxsim setup: %s\n", tdxsim_errmsg(s));
		exit(2);
	}
	kshim_rt_boot(s, mm);
	return s;
}

void kh_vmxon_all(void)
{
	for (unsigned i = 0; i < kh_info.n_lps; i++)
		if (tdxsim_lp_is_online(kshim_rt_sim(), i) && tdxsim_vmx_get(kshim_rt_sim(), i)) {
			fprintf(stderr, "VMXON on LP %u: %s\n", i, tdxsim_errmsg(kshim_rt_sim()));
			exit(2);
		}
}

unsigned kh_vmx_refs(unsigned lp)
{
	unsigned n = ~0u;
	tdxsim_vmx_refcount(kshim_rt_sim(), lp, &n);
	return n;
}

uint64_t kh_wbinvd(unsigned lp)
{
	uint64_t n = 0;
	tdxsim_wbinvd_count(kshim_rt_sim(), lp, &n);
	return n;
}

int kh_main(int argc, char **argv, const struct kscenario *sc, unsigned n)
{
	unsigned passed = 0, failed = 0;
	const char *filter = argc > 1 ? argv[1] : NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned i = 0; i < n; i++) {
		if (filter && !strstr(sc[i].name, filter))
			continue;
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0) {
			alarm(300);
			int rc = sc[i].fn();
			fflush(NULL);
			exit(rc ? 1 : 0);
		}
		int st = 0;
		if (waitpid(pid, &st, 0) < 0) {
			perror("waitpid");
			return 2;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			passed++;
			printf("PASS  %s\n", sc[i].name);
		} else {
			failed++;
			if (WIFSIGNALED(st))
				printf("FAIL  %s (signal %d)\n", sc[i].name, WTERMSIG(st));
			else
				printf("FAIL  %s (exit %d)\n", sc[i].name, WEXITSTATUS(st));
		}
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed || !passed ? 1 : 0;
}
