/*
 * tev_load (trace_events.h): read a trace file, plain or gzip
 * (trace_read_file, sim/trace.h), and parse it strictly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/trace.h"
#include "trace_events.h"

int tev_load(const char *path, tev_leaf_name_fn leaf_name, struct tev_trace *t, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	memset(t, 0, sizeof(*t));
	if (trace_read_file(path, &buf, &len)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	int r = tev_parse(buf, len, path, leaf_name, t, err, errlen);
	free(buf);
	return r;
}
