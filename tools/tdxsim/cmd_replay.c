/*
 * tdxsim replay TRACE: re-issue the SEAMCALLs of a recorded trace on a
 * machine rebuilt from its header and compare every status and output
 * register (the work is tdxsim_replay() in sim/replay.c).
 */
#include <stdio.h>
#include <string.h>

#include "tdxsim/tdxsim.h"
#include "cli.h"

const char cmd_replay_usage[] =
	"Usage: tdxsim replay TRACE [--continue] [--until N] [--json]\n"
	"\n"
	"Replay a SEAMCALL trace (docs/trace-format.md; .jsonl or .jsonl.gz): rebuild\n"
	"the machine from the trace header, then for each seamcall event write back\n"
	"the host memory the leaf read, issue the SEAMCALL on the recorded LP with the\n"
	"recorded registers and compare the status and all 13 output registers.\n"
	"A divergence is reported with its seq, FILE:LINE, leaf, the expected and\n"
	"actual status and the registers that differ. Traces of guest runs may\n"
	"diverge at TDH.VP.ENTER (the guest's memory writes are not in the trace).\n"
	"\n"
	"Options:\n"
	"  --continue     report every divergence instead of stopping at the first\n"
	"  --until N      stop after event seq N and dump the module state: TDs (TDR,\n"
	"                 HKID, lifecycle, OP_STATE, vCPUs) and PAMT pages per type\n"
	"  --json         one JSON object on stdout (counts, divergences, state)\n"
	"  -h, --help     show this help\n"
	"\n"
	"Exit status: 0 every SEAMCALL matched, 1 a divergence, 2 bad usage or a\n"
	"malformed, truncated or unsupported trace (\"FILE:LINE: ...\" on stderr).\n";

int cmd_replay(int argc, char **argv)
{
	const char *path = NULL;
	tdxsim_replay_opts o = { .size = sizeof(o) };
	int dashdash = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val;
		if (!dashdash && a[0] == '-' && a[1]) {
			if (!strcmp(a, "--")) {
				dashdash = 1;
				continue;
			}
			if (!strcmp(a, "--continue")) {
				o.flags |= TDXSIM_REPLAY_CONTINUE;
				continue;
			}
			if (!strcmp(a, "--json")) {
				o.flags |= TDXSIM_REPLAY_JSON;
				continue;
			}
			int r = cli_opt_value("replay", argc, argv, &i, "--until", &val);
			if (r < 0)
				return CLI_EXIT_USAGE;
			if (r > 0) {
				if (cli_parse_u64(val, &o.until))
					return cli_usage_error("replay", "--until: '%s' is not an event number", val);
				o.flags |= TDXSIM_REPLAY_UNTIL;
				continue;
			}
			return cli_usage_error("replay", "unknown option '%s'", a);
		}
		if (path)
			return cli_usage_error("replay", "too many arguments (expected one TRACE)");
		path = a;
	}
	if (!path)
		return cli_usage_error("replay", "missing TRACE (a .jsonl or .jsonl.gz trace file)");
	fflush(stdout);
	int rc = tdxsim_replay(path, &o, NULL);
	if (rc == 1 && !(o.flags & TDXSIM_REPLAY_JSON))
		cli_error("replay", "the replay diverged from %s", path);
	return rc == 0 ? CLI_EXIT_OK : rc == 1 ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
}
