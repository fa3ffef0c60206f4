/*
 * tdxsim command-line tool: what the subcommands share.
 *
 * Each subcommand is a function taking the arguments after its name
 * (argv[0] is the subcommand's name) and returning the process exit status:
 *   0  success;
 *   1  the work failed (a guest ABORT, a divergence, a harness failure);
 *   2  bad usage or unreadable input (message "tdxsim: ..." on stderr).
 * Subcommands are listed in main.c's table (cli_commands); a new one adds
 * its file under tools/tdxsim/ (the CMake glob picks it up) and a row there.
 */
#ifndef TDXSIM_CLI_H
#define TDXSIM_CLI_H

#include <stdint.h>
#include <stdio.h>

#define CLI_EXIT_OK     0
#define CLI_EXIT_FAIL   1
#define CLI_EXIT_USAGE  2

struct cli_command {
	const char *name;
	const char *summary;            /* one line for `tdxsim --help` */
	const char *usage;              /* full help text (`tdxsim help NAME`) */
	int (*run)(int argc, char **argv);
};

/* The subcommand table (NULL-terminated by name), in main.c. */
extern const struct cli_command cli_commands[];
const struct cli_command *cli_find(const char *name);

/* "tdxsim: <cmd>: <message>" on stderr, then "Try 'tdxsim help <cmd>'.";
 * returns CLI_EXIT_USAGE. */
__attribute__((format(printf, 2, 3)))
int cli_usage_error(const char *cmd, const char *fmt, ...);
/* "tdxsim: <cmd>: <message>" on stderr. */
__attribute__((format(printf, 2, 3)))
void cli_error(const char *cmd, const char *fmt, ...);
/* Print the command's usage text on stdout; returns CLI_EXIT_OK. */
int cli_help(const struct cli_command *c);
/* True for "-h" and "--help". */
int cli_is_help(const char *arg);

/*
 * Option parsing shared by the subcommands: "--name VALUE" or
 * "--name=VALUE". cli_opt_value() returns 1 and sets *val if argv[*i]
 * is the option (advancing *i past a separate value), 0 if it is not,
 * -1 (message printed) if the value is missing.
 */
int cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name, const char **val);
/* Unsigned number (decimal, 0x hex, 0 octal), whole string; 0 on success. */
int cli_parse_u64(const char *s, uint64_t *out);
/* A platform profile name known to the library ("spr", "emr", "gnr"). */
int cli_check_platform(const char *cmd, const char *name);

/* JSON string literal (quotes and escapes) of s on f. */
void cli_json_str(FILE *f, const char *s);

/* Subcommands. */
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
extern const char cmd_info_usage[];
extern const char cmd_run_usage[];
int cmd_replay(int argc, char **argv);          /* cmd_replay.c */
extern const char cmd_replay_usage[];
int cmd_stats(int argc, char **argv);          /* cmd_stats.c */
int cmd_timeline(int argc, char **argv);       /* cmd_timeline.c */
extern const char cmd_stats_usage[];
extern const char cmd_timeline_usage[];

#endif
