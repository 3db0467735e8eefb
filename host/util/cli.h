/* SPDX-License-Identifier: MIT */
/*
 * Command-line helpers shared by pvkvm's subcommands: option tables that
 * drive both getopt_long and --help, and size/number parsing.
 */
#ifndef PVKVM_CLI_H
#define PVKVM_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * One option. apply gets the subcommand's state and the argument (NULL for
 * flags) and returns 0, or -1 after printing one line about what is wrong.
 * A subcommand gains an option by adding a row; nothing else changes.
 */
struct cli_option {
	const char *long_name;
	char short_name;      /* 0: long only */
	const char *arg_name; /* NULL: a flag */
	const char *help;
	int (*apply)(void *state, const char *arg);
};

/* Parses argv[1..argc) against opts (terminated by a row with NULL
 * long_name), calling apply for each option; "-h/--help" prints usage and
 * returns 1. Non-option arguments are moved to the front of argv[1..] in
 * order and counted in *nr_positional. 0, 1 (help shown) or -1 (error). */
int cli_parse(int argc, char **argv, const struct cli_option *opts,
	      void *state, const char *usage, int *nr_positional);

void cli_print_help(FILE *f, const char *usage, const struct cli_option *opts);

/* "64M", "1G", "4096", "512K": bytes. 0, or -1 (with a message). */
int cli_parse_size(const char *what, const char *s, uint64_t *out);
/* A decimal in [min, max]. 0, or -1 (with a message). */
int cli_parse_uint(const char *what, const char *s, uint64_t min, uint64_t max,
		   uint64_t *out);

/* Joins argv[0..argc) with single spaces into a new string (NULL on OOM). */
char *cli_join(int argc, char **argv);

#endif
