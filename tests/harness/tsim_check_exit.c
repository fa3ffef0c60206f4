/* tsim_fail_at() for programs without cmocka (library tsim_harness_core). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tsim_check.h"

void tsim_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_Exit(EXIT_FAILURE);
}
