/*
 * The SEAMCALL C ABI exactly as Linux declares it (arch/x86/include/asm/shared/tdx.h,
 * arch/x86/virt/vmx/tdx/seamcall.S): host code written for the kernel links
 * against these symbols unmodified.
 *
 * Write-back rules (Linux's TDX_MODULE_CALL macro):
 *   __seamcall            loads RCX, RDX, R8-R11; stores nothing back
 *   __seamcall_ret        loads RCX, RDX, R8-R11; stores RCX, RDX, R8-R11
 *   __seamcall_saved_ret  loads all 13; stores all 13
 * The return value is RAX. They act on the simulator and LP bound to the
 * calling thread (tdxsim_thread_bind()); an unbound thread gets
 * TDXSIM_SW_NO_BINDING.
 */
#ifndef TDX_SEAMCALL_H
#define TDX_SEAMCALL_H

#include <stdint.h>

#ifndef TDXSIM_API
#define TDXSIM_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifndef TDXSIM_HAVE_TDX_MODULE_ARGS
#define TDXSIM_HAVE_TDX_MODULE_ARGS
/* 13 u64 in Linux's order; 104 bytes. */
struct tdx_module_args {
	uint64_t rcx;
	uint64_t rdx;
	uint64_t r8;
	uint64_t r9;
	uint64_t r10;
	uint64_t r11;
	uint64_t r12;
	uint64_t r13;
	uint64_t r14;
	uint64_t r15;
	uint64_t rbx;
	uint64_t rdi;
	uint64_t rsi;
};
#endif

TDXSIM_API uint64_t __seamcall(uint64_t fn, struct tdx_module_args *args);
TDXSIM_API uint64_t __seamcall_ret(uint64_t fn, struct tdx_module_args *args);
TDXSIM_API uint64_t __seamcall_saved_ret(uint64_t fn, struct tdx_module_args *args);

#ifdef __cplusplus
}
#endif

#endif /* TDX_SEAMCALL_H */
