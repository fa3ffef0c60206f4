/* tsim_fail_at() for the cmocka tests (library tsim_harness). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "tsim_check.h"

_Thread_local int tsim_worker_thread;

void tsim_fail_at(const char *file, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (tsim_worker_thread) {
		/* cmocka cannot fail a test from another thread: report and stop. */
		fprintf(stderr, "%s:%d: %s\n", file, line, msg);
		abort();
	}
	print_error("ERROR: %s:%d: %s\n", file, line, msg);
	_fail(file, line);
	abort();        /* _fail() returns only outside a running test */
}
