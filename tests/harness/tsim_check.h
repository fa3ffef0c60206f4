/*
 * How the host harness (tsim.c, tsim_td.c, tsim_guest.c) fails. Every harness
 * step that must succeed (a SEAMCALL, a simulator API call, an exit the
 * harness cannot handle) ends in tsim_fail_at(), which never returns. The
 * harness is built twice, each copy with its own tsim_fail_at():
 *
 *   tsim_harness       (tests; tsim_check_cmocka.c) fails the running cmocka
 *                      test with "file:line: message"; from a thread marked
 *                      tsim_worker_thread it prints and aborts instead
 *                      (cmocka can fail a test only from its own thread);
 *   tsim_harness_core  (examples, the CLI; tsim_check_exit.c; no cmocka)
 *                      flushes stdout, prints "file:line: message" on stderr
 *                      and exits with status 1 (_Exit: no exit handlers run
 *                      while other threads may still use the simulator).
 *
 * file:line is where the check was written: the test's line for macros a
 * test expands (seamcall_ok(), assert_tdx_status()), the harness's own line
 * otherwise.
 */
#ifndef TSIM_CHECK_H
#define TSIM_CHECK_H

#include "tdxsim/tdxsim.h"

__attribute__((noreturn, format(printf, 3, 4)))
void tsim_fail_at(const char *file, int line, const char *fmt, ...);

#define TSIM_FAIL(...) tsim_fail_at(__FILE__, __LINE__, __VA_ARGS__)
/* cond must hold; the message is the condition's text. */
#define TSIM_CHECK(cond) \
	do { if (!(cond)) TSIM_FAIL("check failed: %s", #cond); } while (0)
/* cond must hold; the message is printf-style. */
#define TSIM_CHECK_MSG(cond, ...) \
	do { if (!(cond)) TSIM_FAIL(__VA_ARGS__); } while (0)
/* A tdxsim API call that must return TDXSIM_OK. */
#define TSIM_CHECK_OK(call) \
	do { tdxsim_err tsim_err_ = (call); \
	     if (tsim_err_ != TDXSIM_OK) TSIM_FAIL("%s: %s", #call, tdxsim_strerror(tsim_err_)); } while (0)

/* tsim_harness only: set in a worker thread so that a failure there prints
 * and aborts the process rather than raising a cmocka failure. */
extern _Thread_local int tsim_worker_thread;

#endif
