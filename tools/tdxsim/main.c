/*
 * tdxsim: the command-line face of the simulator (docs/tdxsim.1).
 *
 *   tdxsim info [--platform P] [--json]     platform and module metadata
 *   tdxsim run IMAGE [options]              boot a guest image in a TD
 *   tdxsim help [SUBCOMMAND], --help, --version
 *
 * This file parses the global options and dispatches through the table
 * below; each subcommand lives in its own file (cmd_*.c). Exit status:
 * 0 success, 1 the work failed, 2 bad usage or unreadable input.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdxsim/tdxsim.h"
#include "cli.h"

/*
 * The subcommands, in the order `tdxsim --help` lists them. Trace
 * subcommands (replay, stats, timeline: issue 6) are added here as rows
 * when they exist.
 */
const struct cli_command cli_commands[] = {
	{ "info", "print platform and TDX module metadata (TDH.SYS.RD)", cmd_info_usage, cmd_info },
	{ "run", "boot a guest image in a TD, print its console and ucalls", cmd_run_usage, cmd_run },
	{ "replay", "re-issue a trace's SEAMCALLs and compare every status and register", cmd_replay_usage, cmd_replay },
	{ "stats", "per-leaf counts, statuses and cycle percentiles of a trace", cmd_stats_usage, cmd_stats },
	{ "timeline", "convert a trace to Chrome/Perfetto trace-event JSON", cmd_timeline_usage, cmd_timeline },
	{ NULL, NULL, NULL, NULL },
};

static const char global_usage_head[] =
	"Usage: tdxsim [--help | --version]\n"
	"       tdxsim help [SUBCOMMAND]\n"
	"       tdxsim SUBCOMMAND [OPTIONS] [ARGS]\n"
	"\n"
	"A software model of the Intel TDX module: SEAMCALLs, TDs, guests.\n"
	"\n"
	"Subcommands:\n";

static const char global_usage_tail[] =
	"\n"
	"Options:\n"
	"  -h, --help     show this help (with a subcommand: that subcommand's help)\n"
	"  -V, --version  show the tdxsim version\n"
	"\n"
	"Exit status: 0 success, 1 failure (guest abort, harness failure),\n"
	"2 bad usage or unreadable input. See tdxsim(1).\n";

static void global_usage(FILE *f)
{
	fputs(global_usage_head, f);
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fputs(global_usage_tail, f);
}

const struct cli_command *cli_find(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void verror(const char *cmd, const char *fmt, va_list ap)
{
	fflush(stdout);
	if (cmd)
		fprintf(stderr, "tdxsim: %s: ", cmd);
	else
		fprintf(stderr, "tdxsim: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(cmd, fmt, ap);
	va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(cmd, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "Try 'tdxsim help %s'.\n", cmd);
	else
		fprintf(stderr, "Try 'tdxsim --help'.\n");
	return CLI_EXIT_USAGE;
}

int cli_help(const struct cli_command *c)
{
	fputs(c->usage, stdout);
	return CLI_EXIT_OK;
}

int cli_is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

int cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		cli_usage_error(cmd, "option '%s' needs a value", name);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int cli_check_platform(const char *cmd, const char *name)
{
	if (tdxsim_platform_find(name))
		return 0;
	char known[128] = "";
	for (const tdxsim_platform *const *p = tdxsim_platforms(); *p; p++) {
		if (known[0])
			strncat(known, ", ", sizeof(known) - strlen(known) - 1);
		strncat(known, (*p)->name, sizeof(known) - strlen(known) - 1);
	}
	cli_usage_error(cmd, "unknown platform '%s' (known: %s)", name, known);
	return -1;
}

void cli_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static int print_version(void)
{
	unsigned v = tdxsim_version();
	printf("tdxsim %s (library %u.%u.%u)\n", TDXSIM_VERSION_STRING, (v >> 16) & 0xFF, (v >> 8) & 0xFF,
	       v & 0xFF);
	return CLI_EXIT_OK;
}

static int help_cmd(int argc, char **argv)
{
	if (argc <= 1) {
		global_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 2)
		return cli_usage_error("help", "too many arguments (expected one SUBCOMMAND)");
	const struct cli_command *c = cli_find(argv[1]);
	if (!c)
		return cli_usage_error(NULL, "unknown subcommand '%s'", argv[1]);
	return cli_help(c);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		global_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *first = argv[1];
	if (cli_is_help(first))
		return help_cmd(argc - 1, argv + 1);   /* --help [SUBCOMMAND] */
	if (!strcmp(first, "-V") || !strcmp(first, "--version")) {
		if (argc > 2)
			return cli_usage_error(NULL, "--version takes no arguments");
		return print_version();
	}
	if (!strcmp(first, "help"))
		return help_cmd(argc - 1, argv + 1);
	if (first[0] == '-')
		return cli_usage_error(NULL, "unknown option '%s'", first);
	const struct cli_command *c = cli_find(first);
	if (!c)
		return cli_usage_error(NULL, "unknown subcommand '%s'", first);
	/* SUBCOMMAND ... --help anywhere before "--": that subcommand's help. */
	for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
		if (cli_is_help(argv[i]))
			return cli_help(c);
	return c->run(argc - 1, argv + 1);
}
