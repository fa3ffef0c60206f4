/*
 * Guest-physical address translation shared by the guest runner
 * (seam/td_run.c) and seam_gpa_read/write (seam/gpa.c, tdcall.h).
 *
 * A private GPA (shared bit clear) goes through the TD's S-EPT: only a MAPPED
 * leaf (or BLOCKEDW, for reads and fetches) gives access; the page is then
 * read and written through the TD's KeyID. A shared GPA goes through the
 * host's shared EPT (v->vmcs.shared_eptp: a standard EPT of the TD's level
 * count in host memory, read through KeyID 0); the page is host memory with
 * no KeyID (KeyID bits of the HPA are dropped).
 */
#ifndef SEAM_GPA_H
#define SEAM_GPA_H

#include <stdbool.h>
#include <stdint.h>

struct seam_ctx;
struct seam_vcpu;

struct seam_gpa_xlat {
	bool shared;            /* translated through the shared EPT */
	bool writable;          /* the leaf allows writes */
	uint64_t hpa;           /* PA of the 4 KiB page holding the GPA (no KeyID bits) */
	unsigned state;         /* private: S-EPT state of the entry the walk ended at */
	unsigned level;         /* level of that entry (0 = 4K) */
	bool sve;               /* shared: bit 63 (suppress #VE) of the entry the walk ended
				 * at (the non-present one, or the leaf): an EPT violation
				 * there is a #VE in the TD when it is clear (KVM's MMIO
				 * entries), a TD exit when set */
};

/*
 * Translate the 4 KiB page of gpa. Returns 0 when the page is accessible
 * (readable; x->writable tells about writes), -1 otherwise (x->state,
 * x->level describe where a private walk stopped; for a shared GPA state is
 * 0). Takes the S-EPT tree lock shared for a private walk, waiting briefly
 * for an exclusive holder (the CPU's walk does not take the module's lock;
 * the wait only keeps the walk from reading an entry mid-update): do not call
 * with the tree lock held exclusive.
 */
int seam_gpa_xlat(struct seam_ctx *c, struct seam_vcpu *v, uint64_t gpa, struct seam_gpa_xlat *x);

/* One 8-byte entry of host memory read through KeyID 0 (a TD-owned line
 * reads as 0, as through a shared KeyID). */
uint64_t seam_host_read64(struct seam_ctx *c, uint64_t pa);

#endif
