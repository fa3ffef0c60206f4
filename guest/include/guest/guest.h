/*
 * The freestanding guest runtime: what a guest program includes.
 *
 * A program defines guest_main(); the boot block (lib/boot.S) runs it on every
 * vCPU in 64-bit mode with the identity map and the vCPU's own stack. Returning
 * from guest_main() is GUEST_DONE().
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/boot.h"
#include "guest/tdcall.h"
#include "guest/ucall.h"

/* The program's entry, on each vCPU: arg is guest_boot_params.arg. */
void guest_main(unsigned vcpu_index, uint64_t arg);

/* Filled by the runtime before guest_main(). */
extern unsigned guest_gpaw;             /* RBX at reset: 48 or 52 */
extern uint64_t guest_shared_mask;      /* 1 << (GPAW - 1) */

/* The vCPU index of the caller (kept in a per-vCPU slot found through RSP). */
unsigned guest_vcpu_index(void);

/* A pointer through which the guest reaches shared GPA (offset | shared bit). */
static inline void *guest_shared_ptr(uint64_t offset)
{
	return (void *)(uintptr_t)(GUEST_SHARED_VA + offset);
}

/* The GPA of a private object (identity mapped). */
static inline uint64_t guest_gpa(const volatile void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* ucall: fill this vCPU's struct ucall and exit to the host. */
void guest_ucall(uint64_t cmd, const char *file, unsigned line, uint64_t nargs, ...);
void guest_ucall_fmt(uint64_t cmd, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
__attribute__((noreturn)) void guest_abort(const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define GUEST_UCALL_NARGS(...) (sizeof((uint64_t[]){ 0, ##__VA_ARGS__ }) / sizeof(uint64_t) - 1)

/* SYNC with arg in args[0] and up to five more values in args[1..]. */
#define GUEST_SYNC(arg, ...) \
	guest_ucall(UCALL_SYNC, __FILE__, __LINE__, 1 + GUEST_UCALL_NARGS(__VA_ARGS__), \
		    (uint64_t)(arg), ##__VA_ARGS__)
#define GUEST_DONE() guest_ucall(UCALL_DONE, __FILE__, __LINE__, 0)
#define GUEST_ASSERT(cond) \
	do { if (!(cond)) guest_abort(__FILE__, __LINE__, "assertion failed: %s", #cond); } while (0)
#define GUEST_ASSERT_EQ(a, b) \
	do { uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b); \
	     if (a_ != b_) guest_abort(__FILE__, __LINE__, "%s == %s: 0x%lx != 0x%lx", #a, #b, a_, b_); \
	} while (0)
#define GUEST_FAIL(...) guest_abort(__FILE__, __LINE__, __VA_ARGS__)

/*
 * What the runtime's #VE handler saw last on this vCPU: the VE_INFO it read
 * with TDG.VP.VEINFO.GET, the RIP and RAX at the #VE, and how many #VEs so
 * far. guest_ve_hook (NULL by default), if set, is called with them before
 * the handler emulates the instruction; returning non-zero skips the
 * instruction instead (RIP += VE_INFO's instruction length).
 */
struct guest_ve_record {
	struct tdg_ve_info ve;
	uint64_t rip, rax;
	uint64_t count;
};
const struct guest_ve_record *guest_last_ve(void);
extern int (*guest_ve_hook)(const struct tdg_ve_info *ve, uint64_t rip, uint64_t rax);

/* Expect one exception of `vector` on this vCPU: instead of reporting it
 * as unhandled, the runtime records it and resumes `skip` bytes after the
 * faulting RIP. */
struct guest_exc_record {
	uint64_t vector, error, rip;
	uint64_t count;
};
void guest_expect_exception(unsigned vector, unsigned skip);
const struct guest_exc_record *guest_last_exception(void);

/* Console on COM1 (port 0x3F8), one TDVMCALL IO out per byte. */
#define GUEST_CONSOLE_PORT 0x3F8
void guest_puts(const char *s);
int guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define GUEST_PRINTF(...) guest_printf(__VA_ARGS__)

/* Small libc pieces: %d %i %u %x %X %p %s %c %%, with l/ll/z and width/0-pad. */
int guest_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int guest_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif
