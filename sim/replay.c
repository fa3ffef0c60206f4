/*
 * SEAMCALL trace replay (docs/trace-format.md, "Replay"). The trace is read
 * with the library's trace reader (sim/trace_read.h), which checks every
 * line and reports anything malformed, truncated or missing as
 * "FILE:LINE: what was expected" (the replay then returns 2). Reading and
 * parsing run on a thread of their own, a few batches ahead of the thread
 * that issues the SEAMCALLs (the pipeline below).
 *
 * For each seamcall event the host memory the leaf read is written back at
 * its PAs (only the 64-byte lines whose contents differ from what the module
 * would read now, so lines a TD owns, which read as zeros both times, are
 * never overwritten), the SEAMCALL is issued on the recorded LP with the
 * recorded RAX and registers, and the status and the 13 output registers are
 * compared with the recorded ones. An event whose status the fault plan
 * injected (format minor 2 records which fault point of the leaf it came
 * from) is issued under a one-shot plan that fails that same point, so the
 * leaf does the same partial work (an interrupted TDH.PHYMEM.CACHE.WB, say)
 * before it fails; older traces, and TDH.VP.ENTERs whose status came from a
 * TDCALL inside the guest, cannot say where: those events are not issued,
 * only counted and reported. td_exit and tdcall events describe what happened inside the
 * preceding TDH.VP.ENTER: its output registers already carry the exit; of a
 * td_exit the guest RIP is checked too (the vCPU must have stopped where it
 * did), tdcall events are counted.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "seam/pamt.h"
#include "seam/seam_mem.h"
#include "seam/td.h"
#include "sim/replay.h"
#include "sim/sim_int.h"
#include "sim/trace_read.h"

#define NREGS 13
static const char *const reg_names[NREGS] = {
	"rcx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rbx", "rdi", "rsi",
};

struct replay {
	const char *path;
	const tdxsim_replay_opts *o;
	FILE *out, *err;
	FILE *jdiv;                     /* JSON mode: divergences, buffered */
	char *jdiv_buf;
	size_t jdiv_len;
	int json;
	tdxsim *s;
	uint32_t n_lps;
	uint8_t *vmx_on;
	struct trace_reader *tr;
	uint8_t *scratch;
	size_t scratch_cap;
	uint64_t td_exits, tdcalls, other;
	uint64_t reinjected;            /* injected statuses produced again */
	tdxsim_replay_result res;
	/* progress on a terminal */
	int progress;
	double t_next;
	/* the reader thread (pipeline) */
	struct pipe *pp;
	char errbuf[768];               /* a problem found by the replaying thread */
};

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Malformed input: the reader's message (or ours at the current line). */
static int bad_input(struct replay *r)
{
	fflush(r->out);
	if (r->progress)
		fputs("\r\033[K", r->err);
	const char *m = r->errbuf[0] ? r->errbuf : trace_reader_error(r->tr);
	fprintf(r->err, "%s\n", m ? m : "malformed trace");
	return 2;
}

/* A problem with the event at line (found while replaying it). */
__attribute__((format(printf, 3, 4)))
static int bad_event(struct replay *r, uint64_t line, const char *fmt, ...)
{
	int k = snprintf(r->errbuf, sizeof(r->errbuf), "%s:%" PRIu64 ": ", r->path, line);
	if (k >= 0 && (size_t)k < sizeof(r->errbuf)) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->errbuf + k, sizeof(r->errbuf) - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return 2;
}

/* One "mem" entry as the replaying thread gets it (the blob's bytes stay
 * where the reader keeps them until it is closed). */
struct rmem {
	uint64_t pa, len;
	const uint8_t *data;
};

/* Write back what the leaf read: only the 64-byte lines that differ from
 * what the module reads now. */
static int restore_mem(struct replay *r, const struct rmem *m, uint64_t line)
{
	if (!m->len)
		return 0;
	if (m->len > r->scratch_cap) {
		uint8_t *ns = realloc(r->scratch, m->len);
		if (!ns)
			return bad_event(r, line, "out of memory");
		r->scratch = ns;
		r->scratch_cap = m->len;
	}
	seam_read_pa(r->s, m->pa, r->scratch, m->len);
	const uint8_t *want = m->data;
	if (!memcmp(r->scratch, want, m->len))
		return 0;
	uint64_t pa = seam_pa_strip(r->s, m->pa);
	for (uint64_t off = 0, n; off < m->len; off += n) {
		n = 64 - ((pa + off) & 63);
		if (n > m->len - off)
			n = m->len - off;
		if (memcmp(r->scratch + off, want + off, n))
			seam_write_pa(r->s, pa + off, want + off, n);
	}
	return 0;
}

static void print_divergence(struct replay *r, const struct trace_ev *e, const char *name,
			     uint64_t st, const struct tdx_module_args *out)
{
	const uint64_t *want = (const uint64_t *)&e->out, *got = (const uint64_t *)out;
	char sw[128], sg[128];
	tdx_status_str(e->status, sw, sizeof(sw));
	tdx_status_str(st, sg, sizeof(sg));
	if (r->json) {
		FILE *f = r->jdiv;
		fprintf(f, "%s{\"seq\":%" PRIu64 ",\"line\":%" PRIu64 ",\"lp\":%" PRIu32
			",\"rax\":\"0x%" PRIx64 "\",\"name\":\"%s\",\"expected_status\":\"0x%" PRIx64
			"\",\"expected_status_name\":\"%s\",\"actual_status\":\"0x%" PRIx64
			"\",\"actual_status_name\":\"%s\",\"registers\":[",
			r->res.divergences > 1 ? "," : "", e->seq, e->line, e->lp, e->rax, name,
			e->status, tdx_status_name(e->status) ? tdx_status_name(e->status) : "",
			st, tdx_status_name(st) ? tdx_status_name(st) : "");
		int first = 1;
		for (int i = 0; i < NREGS; i++)
			if (want[i] != got[i]) {
				fprintf(f, "%s{\"reg\":\"%s\",\"expected\":\"0x%" PRIx64 "\",\"actual\":\"0x%" PRIx64 "\"}",
					first ? "" : ",", reg_names[i], want[i], got[i]);
				first = 0;
			}
		fprintf(f, "]}");
		return;
	}
	FILE *f = r->out;
	if (r->progress)
		fputs("\r\033[K", r->err);
	fprintf(f, "DIVERGENCE at seq %" PRIu64 " (%s:%" PRIu64 "), LP %" PRIu32 ", %s:\n",
		e->seq, r->path, e->line, e->lp, name);
	if (st != e->status)
		fprintf(f, "  status: expected %s, got %s\n", sw, sg);
	else
		fprintf(f, "  status: %s as recorded\n", sw);
	for (int i = 0; i < NREGS; i++)
		if (want[i] != got[i])
			fprintf(f, "  %-6s expected 0x%" PRIx64 ", got 0x%" PRIx64 "\n", reg_names[i], want[i], got[i]);
}

/* 0 matched, 1 diverged, 2 bad input. */
static int do_seamcall(struct replay *r, const struct trace_ev *e, const struct rmem *mem, size_t n_mem)
{
	if (e->lp >= r->n_lps)
		return bad_event(r, e->line, "seamcall seq %" PRIu64 ": lp %" PRIu32 " but the machine has %u LPs",
				 e->seq, e->lp, r->n_lps);
	for (size_t i = 0; i < n_mem; i++)
		if (restore_mem(r, &mem[i], e->line))
			return 2;
	int armed = 0;
	if (e->injected) {
		/* Fail the same fault point again, once (docs/trace-format.md). */
		unsigned leaf = (unsigned)(e->rax & TDX_LEAF_MASK);
		tdxsim_fault f = {
			.size = sizeof(f), .leaf = (int)leaf, .lp = (int)e->lp,
			.status = e->status & ~0xFFFFFFFFull,   /* the operand id is the leaf's */
			.nth = (uint64_t)e->injected, .count = 1,
		};
		if (trace_reader_header(r->tr)->minor < 2 || leaf == TDH_VP_ENTER ||
		    tdxsim_fault_add(r->s, &f, NULL) != TDXSIM_OK) {
			r->res.skipped++;
			return 0;
		}
		armed = 1;
	}
	if (!r->vmx_on[e->lp]) {
		tdxsim_vmx_get(r->s, e->lp);
		r->vmx_on[e->lp] = 1;
	}
	struct tdx_module_args a = e->in;
	uint64_t st = tdxsim_seamcall(r->s, e->lp, e->rax, &a);
	r->res.seamcalls++;
	if (armed) {
		tdxsim_fault_clear(r->s);
		r->reinjected++;
	}
	if (st == e->status && !memcmp(&a, &e->out, sizeof(a)))
		return 0;
	r->res.divergences++;
	const char *name = e->name;
	char unk[32];
	if (!name) {
		snprintf(unk, sizeof(unk), "leaf %" PRIu64, (uint64_t)(e->rax & TDX_LEAF_MASK));
		name = unk;
	}
	print_divergence(r, e, name, st, &a);
	return 1;
}

/* A td_exit: the guest must have stopped where it did when recorded (the
 * VP.ENTER's registers, already compared, carry the rest of the exit).
 * 0 matched (or the vCPU is gone), 1 diverged. */
static int do_td_exit(struct replay *r, const struct trace_ev *e)
{
	for (struct seam_td *td = r->s->mod.all_tds; td; td = td->all_next)
		for (unsigned i = 0; td->vcpus && i < td->max_vcpus; i++) {
			struct seam_vcpu *v = td->vcpus[i];
			if (!v || v->tdvpr_pa != e->tdvpr)
				continue;
			if (v->g.rip == e->rip)
				return 0;
			r->res.divergences++;
			if (r->json) {
				fprintf(r->jdiv, "%s{\"seq\":%" PRIu64 ",\"line\":%" PRIu64 ",\"lp\":%" PRIu32
					",\"name\":\"td_exit\",\"tdvpr\":\"0x%" PRIx64 "\",\"registers\":[{\"reg\":\"rip\""
					",\"expected\":\"0x%" PRIx64 "\",\"actual\":\"0x%" PRIx64 "\"}]}",
					r->res.divergences > 1 ? "," : "", e->seq, e->line, e->lp, e->tdvpr, e->rip, v->g.rip);
				return 1;
			}
			if (r->progress)
				fputs("\r\033[K", r->err);
			fprintf(r->out, "DIVERGENCE at seq %" PRIu64 " (%s:%" PRIu64 "), LP %" PRIu32
				", TD exit of vCPU 0x%" PRIx64 ":\n  guest rip expected 0x%" PRIx64 ", got 0x%" PRIx64 "\n",
				e->seq, r->path, e->line, e->lp, e->tdvpr, e->rip, v->g.rip);
			return 1;
		}
	return 0;
}

/* ---- State dump ---------------------------------------------------------------------------------- */

static const char *lifecycle_name(unsigned v)
{
	static const char *const n[] = { "HKID_ASSIGNED", "KEYS_CONFIGURED", "BLOCKED", "TEARDOWN" };
	return v < 4 ? n[v] : "?";
}

static const char *op_state_name(unsigned v)
{
	static const char *const n[] = { "UNINITIALIZED", "INITIALIZED", "RUNNABLE", "LIVE_EXPORT",
		"PAUSED_EXPORT", "POST_EXPORT", "MEMORY_IMPORT", "STATE_IMPORT", "POST_IMPORT",
		"LIVE_IMPORT", "FAILED_IMPORT" };
	return v < 11 ? n[v] : "?";
}

static const char *vcpu_state_name(unsigned v)
{
	switch (v) {
	case VCPU_UNINITIALIZED: return "UNINITIALIZED";
	case VCPU_READY: return "READY";
	case VCPU_ACTIVE: return "ACTIVE";
	case VCPU_DISABLED: return "DISABLED";
	case VCPU_IMPORT: return "IMPORT";
	}
	return "?";
}

static const char *sys_state_name(unsigned v)
{
	static const char *const n[] = { "SYSINIT_PENDING", "SYSINIT_DONE", "SYSCONFIG_DONE", "READY", "SHUTDOWN" };
	return v < 5 ? n[v] : "?";
}

static const char *page_type_name(unsigned t)
{
	switch (t) {
	case PT_NDA: return "PT_NDA";
	case PT_RSVD: return "PT_RSVD";
	case PT_REG: return "PT_REG";
	case PT_TDR: return "PT_TDR";
	case PT_TDCX: return "PT_TDCX";
	case PT_TDVPR: return "PT_TDVPR";
	case PT_EPT: return "PT_EPT";
	}
	return NULL;
}

void sim_replay_dump_state(tdxsim *s, FILE *f, int json)
{
	struct seam_module *m = &s->mod;
	unsigned st = tdxsim_module_state(s);
	/* PAMT: 4 KiB pages per type over the initialised part of every TDMR. */
	uint64_t counts[16] = { 0 }, other = 0;
	for (uint32_t i = 0; i < m->n_tdmrs; i++) {
		const struct seam_tdmr *t = &m->tdmr[i];
		uint64_t end = t->base + atomic_load_explicit(&t->init_off, memory_order_acquire);
		for (uint64_t pa = t->base; pa < end;) {
			unsigned type, size;
			uint64_t owner;
			if (tdxsim_pamt_lookup(s, pa, &type, &owner, &size) != TDXSIM_OK) {
				pa += TDX_PAGE_SIZE;
				continue;
			}
			uint64_t step = size == 2 ? 1ull << 30 : size == 1 ? 1ull << 21 : TDX_PAGE_SIZE;
			uint64_t next = (pa & ~(step - 1)) + step;
			if (next > end)
				next = end;
			uint64_t n = (next - pa) / TDX_PAGE_SIZE;
			if (type < 16 && page_type_name(type))
				counts[type] += n;
			else
				other += n;
			pa = next;
		}
	}
	uint32_t ntds = 0;
	for (struct seam_td *td = m->all_tds; td; td = td->all_next)
		ntds++;
	if (json) {
		fprintf(f, "{\"module\":\"%s\",\"global_keyid\":%u,\"tds\":[", sys_state_name(st),
			tdxsim_global_keyid(s));
		int first = 1;
		for (struct seam_td *td = m->all_tds; td; td = td->all_next) {
			fprintf(f, "%s{\"tdr\":\"0x%" PRIx64 "\",\"hkid\":%u,\"lifecycle\":\"%s\",\"op_state\":\"%s\""
				",\"fatal\":%u,\"max_vcpus\":%u,\"num_vcpus\":%u,\"child_pages\":%" PRIu64 ",\"vcpus\":[",
				first ? "" : ",", td->tdr_pa, td->hkid, lifecycle_name(td->lifecycle),
				op_state_name(td->op_state), (unsigned)td->fatal, td->max_vcpus,
				(unsigned)td->num_vcpus, (uint64_t)td->chldcnt);
			first = 0;
			int vf = 1;
			for (unsigned i = 0; td->vcpus && i < td->max_vcpus; i++) {
				struct seam_vcpu *v = td->vcpus[i];
				if (!v)
					continue;
				fprintf(f, "%s{\"index\":%u,\"tdvpr\":\"0x%" PRIx64 "\",\"state\":\"%s\",\"assoc_lp\":%d}",
					vf ? "" : ",", v->vcpu_index, v->tdvpr_pa, vcpu_state_name(v->state),
					(int)v->assoc_lp);
				vf = 0;
			}
			fprintf(f, "]}");
		}
		fprintf(f, "],\"pamt_4k_pages\":{");
		first = 1;
		for (unsigned t = 0; t < 16; t++)
			if (page_type_name(t)) {
				fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", page_type_name(t), counts[t]);
				first = 0;
			}
		fprintf(f, ",\"other\":%" PRIu64 "}}", other);
		return;
	}
	fprintf(f, "Module: %s, global KeyID %u\n", sys_state_name(st), tdxsim_global_keyid(s));
	fprintf(f, "TDs: %u\n", ntds);
	for (struct seam_td *td = m->all_tds; td; td = td->all_next) {
		fprintf(f, "  TDR 0x%" PRIx64 "  HKID %u  lifecycle %s  op_state %s%s  vCPUs %u/%u  child pages %" PRIu64 "\n",
			td->tdr_pa, td->hkid, lifecycle_name(td->lifecycle), op_state_name(td->op_state),
			td->fatal ? " FATAL" : "", (unsigned)td->num_vcpus, td->max_vcpus, (uint64_t)td->chldcnt);
		for (unsigned i = 0; td->vcpus && i < td->max_vcpus; i++) {
			struct seam_vcpu *v = td->vcpus[i];
			if (!v)
				continue;
			fprintf(f, "    vCPU %u  TDVPR 0x%" PRIx64 "  %s", v->vcpu_index, v->tdvpr_pa,
				vcpu_state_name(v->state));
			if (v->assoc_lp >= 0)
				fprintf(f, "  associated with LP %d", (int)v->assoc_lp);
			fputc('\n', f);
		}
	}
	fprintf(f, "PAMT (4 KiB pages by type):");
	for (unsigned t = 0; t < 16; t++)
		if (page_type_name(t) && counts[t])
			fprintf(f, " %s %" PRIu64, page_type_name(t), counts[t]);
	if (other)
		fprintf(f, " other %" PRIu64, other);
	fputc('\n', f);
}

/* ---- Pipeline: reading and parsing on a thread of its own --------------------------------------- */

/*
 * The reader thread parses events into batches (copies: an event of the
 * reader lives only until its next call), the replaying thread issues them
 * in order. A batch ends the reading when the reader met the end or an
 * error; the replaying thread stops it early (a divergence, --until) by
 * setting stop. Blob bytes are shared: the reader keeps them until closed.
 */
#define BATCH  512
#define NBATCH 4

struct batch {
	struct trace_ev ev[BATCH];
	size_t mem_off[BATCH];          /* each event's first entry in mem */
	struct rmem *mem;
	size_t n, n_mem, cap_mem;
	int last;                       /* the reading stopped after this batch */
	int rc;                         /* then: 0 the end, -1 an error */
};

struct pipe {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct trace_reader *tr;
	struct batch *b[NBATCH];
	int full[NBATCH];
	int stop;
	int started;
	atomic_int cancel;              /* unblocks the reader waiting on a pipe */
};

static void *reader_main(void *arg)
{
	struct pipe *p = arg;
	for (unsigned i = 0;; i = (i + 1) % NBATCH) {
		pthread_mutex_lock(&p->mu);
		while (p->full[i] && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		int stop = p->stop;
		pthread_mutex_unlock(&p->mu);
		if (stop)
			return NULL;
		struct batch *b = p->b[i];
		b->n = b->n_mem = 0;
		b->last = 0;
		const struct trace_ev *e;
		int rc = 1;
		/* A live trace on a pipe: hand over what there is rather than
		 * wait for a full batch. */
		while (b->n < BATCH && (!b->n || trace_reader_ready(p->tr)) &&
		       (rc = trace_reader_next(p->tr, &e)) > 0) {
			struct trace_ev *d = &b->ev[b->n];
			*d = *e;
			d->status_name = "";    /* the reader's buffer: not kept */
			d->mem = NULL;
			d->blob = NULL;
			b->mem_off[b->n] = b->n_mem;
			if (e->n_mem > b->cap_mem - b->n_mem) {
				size_t cap = b->cap_mem ? b->cap_mem : 64;
				while (cap - b->n_mem < e->n_mem)
					cap *= 2;
				struct rmem *m = realloc(b->mem, cap * sizeof(*m));
				if (!m) {
					rc = trace_reader_fail(p->tr, "out of memory");
					break;
				}
				b->mem = m;
				b->cap_mem = cap;
			}
			for (size_t k = 0; k < e->n_mem; k++)
				b->mem[b->n_mem++] = (struct rmem){ e->mem[k].pa, e->mem[k].len, e->mem[k].blob->data };
			b->n++;
		}
		if (rc <= 0) {
			b->last = 1;
			b->rc = rc;
		}
		pthread_mutex_lock(&p->mu);
		p->full[i] = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (b->last)
			return NULL;
	}
}

static int pipe_start(struct replay *r)
{
	struct pipe *p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	r->pp = p;
	p->tr = r->tr;
	trace_reader_set_cancel(p->tr, &p->cancel);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (int i = 0; i < NBATCH; i++)
		if (!(p->b[i] = calloc(1, sizeof(struct batch))))
			return -1;
	if (pthread_create(&p->th, NULL, reader_main, p))
		return -1;
	p->started = 1;
	return 0;
}

/* Stop the reader (if running) and free the batches. */
static void pipe_finish(struct replay *r)
{
	struct pipe *p = r->pp;
	if (!p)
		return;
	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		atomic_store(&p->cancel, 1);
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->th, NULL);
	}
	for (int i = 0; i < NBATCH; i++) {
		if (p->b[i])
			free(p->b[i]->mem);
		free(p->b[i]);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
	r->pp = NULL;
}

/* ---- Driver ---------------------------------------------------------------------------------------- */

static void json_path(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Every 0.5 s on a terminal: events done and the rate. */
static void progress(struct replay *r, double t0, uint64_t line)
{
	double t = now_ns();
	if (t < r->t_next)
		return;
	r->t_next = t + 5e8;
	double s = (t - t0) * 1e-9;
	fprintf(r->err, "\r\033[Kreplay %s: %" PRIu64 " events, %.2f M events/s, line %" PRIu64,
		r->path, r->res.events, s > 0 ? (double)r->res.events / s * 1e-6 : 0.0, line);
	fflush(r->err);
}

static int replay_run(struct replay *r)
{
	r->tr = trace_reader_open(r->path);
	if (!r->tr) {
		fprintf(r->err, "%s: out of memory\n", r->path);
		return 2;
	}
	if (trace_reader_error(r->tr))
		return bad_input(r);
	tdxsim_config cfg = trace_reader_header(r->tr)->cfg;
	tdxsim_err err = tdxsim_open(&cfg, &r->s);
	if (err)
		return bad_event(r, 1, "cannot rebuild the machine of the header: %s", tdxsim_strerror(err)),
		       bad_input(r);
	tdxsim_info info = { .size = sizeof(info) };
	tdxsim_info_get(r->s, &info);
	r->n_lps = info.n_lps;
	r->vmx_on = calloc(r->n_lps, 1);
	if (!r->vmx_on || pipe_start(r))
		return bad_event(r, 1, "out of memory or no thread for the reader"), bad_input(r);

	int unt = r->o && (r->o->flags & TDXSIM_REPLAY_UNTIL);
	int cont = r->o && (r->o->flags & TDXSIM_REPLAY_CONTINUE);
	int quiet = r->o && (r->o->flags & TDXSIM_REPLAY_QUIET);
	r->progress = !quiet && isatty(fileno(r->err));
	uint64_t until = unt ? r->o->until : 0, last_seq = 0, last_line = 1;
	int stopped_until = 0, result = 0, rc;
	double t0 = now_ns();
	r->t_next = t0 + 5e8;
	struct pipe *p = r->pp;
	for (unsigned bi = 0;; bi = (bi + 1) % NBATCH) {
		pthread_mutex_lock(&p->mu);
		while (!p->full[bi])
			pthread_cond_wait(&p->cv, &p->mu);
		pthread_mutex_unlock(&p->mu);
		struct batch *b = p->b[bi];
		for (size_t k = 0; k < b->n; k++) {
			const struct trace_ev *e = &b->ev[k];
			r->res.events++;
			last_seq = e->seq;
			last_line = e->line;
			switch (e->kind) {
			case TRACE_EV_SEAMCALL:
				rc = do_seamcall(r, e, b->mem + b->mem_off[k], e->n_mem);
				if (rc == 2) {
					pipe_finish(r);
					return bad_input(r);
				}
				if (rc == 1) {
					result = 1;
					if (!cont)
						goto done;
				}
				break;
			case TRACE_EV_TD_EXIT:
				r->td_exits++;
				if (do_td_exit(r, e)) {
					result = 1;
					if (!cont)
						goto done;
				}
				break;
			case TRACE_EV_TDCALL:
				r->tdcalls++;
				break;
			case TRACE_EV_OTHER:
				r->other++;
				break;
			case TRACE_EV_BLOB:
				break;
			}
			if (unt && e->seq >= until) {
				stopped_until = 1;
				goto done;
			}
			if (r->progress && !(r->res.events & 4095))
				progress(r, t0, e->line);
		}
		if (b->last) {
			if (b->rc < 0) {
				pipe_finish(r);         /* the reader has stopped: its error is set */
				return bad_input(r);
			}
			break;
		}
		pthread_mutex_lock(&p->mu);
		p->full[bi] = 0;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
done:
	r->res.seamcall_ns = now_ns() - t0;
	pipe_finish(r);
	if (r->progress)
		fputs("\r\033[K", r->err);
	FILE *f = r->out;
	if (r->json) {
		fflush(r->jdiv);
		fprintf(f, "{\"trace\":");
		json_path(f, r->path);
		fprintf(f, ",\"platform\":\"%s\",\"events\":%" PRIu64 ",\"seamcalls\":%" PRIu64
			",\"skipped_injected\":%" PRIu64 ",\"reinjected\":%" PRIu64 ",\"td_exits\":%" PRIu64 ",\"tdcalls\":%" PRIu64
			",\"other_events\":%" PRIu64 ",\"divergences\":%" PRIu64
			",\"result\":\"%s\",\"last_seq\":%" PRIu64 ",\"diverged\":[%s]",
			trace_reader_header(r->tr)->platform, r->res.events, r->res.seamcalls, r->res.skipped,
			r->reinjected, r->td_exits, r->tdcalls, r->other, r->res.divergences,
			result ? "diverged" : "match", last_seq, r->jdiv_buf ? r->jdiv_buf : "");
		if (unt) {
			fprintf(f, ",\"until\":%" PRIu64 ",\"state\":", until);
			sim_replay_dump_state(r->s, f, 1);
		}
		fprintf(f, "}\n");
		return result;
	}
	if (result && !cont)
		fprintf(f, "Replay stopped at the first divergence (--continue reports them all).\n");
	if (!quiet || result) {
		fprintf(f, "%s: %" PRIu64 " events, %" PRIu64 " SEAMCALLs replayed", r->path,
			r->res.events, r->res.seamcalls);
		if (r->reinjected)
			fprintf(f, " (%" PRIu64 " with their injected status injected again)", r->reinjected);
		if (r->res.skipped)
			fprintf(f, " (%" PRIu64 " with an injected status not issued)", r->res.skipped);
		if (r->td_exits || r->tdcalls)
			fprintf(f, ", %" PRIu64 " TD exits and %" PRIu64 " TDCALLs inside them", r->td_exits,
				r->tdcalls);
		fprintf(f, ", %" PRIu64 " divergence%s%s\n", r->res.divergences,
			r->res.divergences == 1 ? "" : "s", result ? "" : ": every status and register matched");
	}
	if (unt) {
		if (stopped_until)
			fprintf(f, "State after seq %" PRIu64 " (%s:%" PRIu64 "):\n", last_seq, r->path, last_line);
		else
			fprintf(f, "State at the end of the trace (seq %" PRIu64 "; no event %" PRIu64 "):\n",
				last_seq, until);
		sim_replay_dump_state(r->s, f, 0);
	}
	return result;
}

int tdxsim_replay(const char *path, const tdxsim_replay_opts *opts, tdxsim_replay_result *res)
{
	struct replay r;
	memset(&r, 0, sizeof(r));
	r.path = path ? path : "(null)";
	r.o = opts && opts->size >= sizeof(*opts) ? opts : NULL;
	r.out = r.o && r.o->out ? r.o->out : stdout;
	r.err = r.o && r.o->err ? r.o->err : stderr;
	r.json = r.o && (r.o->flags & TDXSIM_REPLAY_JSON);
	int rc;
	if (!path || !*path) {
		fprintf(r.err, "replay: no trace file given\n");
		rc = 2;
		goto out;
	}
	if (r.json && !(r.jdiv = open_memstream(&r.jdiv_buf, &r.jdiv_len))) {
		fprintf(r.err, "%s: out of memory\n", path);
		rc = 2;
		goto out;
	}
	rc = replay_run(&r);
out:
	if (r.jdiv)
		fclose(r.jdiv);
	free(r.jdiv_buf);
	pipe_finish(&r);
	trace_reader_close(r.tr);
	tdxsim_close(r.s);
	free(r.scratch);
	free(r.vmx_on);
	fflush(r.out);
	if (res && res->size >= sizeof(*res)) {
		r.res.size = res->size;
		*res = r.res;
	}
	return rc;
}
