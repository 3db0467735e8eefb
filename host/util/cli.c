// SPDX-License-Identifier: MIT
/* Option tables for pvkvm's subcommands (see cli.h). */
#include "host/util/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define CLI_MAX_OPTIONS 64

static int build_getopt(const struct cli_option *opts, struct option *lo,
			char *shorts)
{
	int n = 0, s = 0;
	shorts[s++] = ':'; /* report a missing argument as ':' */
	for (; opts[n].long_name && n < CLI_MAX_OPTIONS - 2; n++) {
		lo[n] = (struct option){opts[n].long_name,
					opts[n].arg_name ? required_argument : no_argument,
					NULL, 256 + n};
		if (opts[n].short_name) {
			shorts[s++] = opts[n].short_name;
			if (opts[n].arg_name)
				shorts[s++] = ':';
		}
	}
	lo[n] = (struct option){"help", no_argument, NULL, 'h'};
	lo[n + 1] = (struct option){0};
	shorts[s++] = 'h';
	shorts[s] = '\0';
	return n;
}

static int index_of_short(const struct cli_option *opts, int n, int c)
{
	for (int i = 0; i < n; i++)
		if (opts[i].short_name == c)
			return i;
	return -1;
}

static int apply_one(const struct cli_option *o, void *state)
{
	return o->apply(state, o->arg_name ? optarg : NULL);
}

int cli_parse(int argc, char **argv, const struct cli_option *opts,
	      void *state, const char *usage, int *nr_positional)
{
	struct option lo[CLI_MAX_OPTIONS];
	char shorts[2 * CLI_MAX_OPTIONS + 4];
	int n = build_getopt(opts, lo, shorts);
	optind = 1;
	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, shorts, lo, NULL);
		if (c == -1)
			break;
		int i = c >= 256 ? c - 256 : index_of_short(opts, n, c);
		if (c == 'h' && i < 0) {
			cli_print_help(stdout, usage, opts);
			return 1;
		}
		if (c == ':') {
			fprintf(stderr, "pvkvm: option %s needs an argument (try --help)\n", argv[optind - 1]);
			return -1;
		}
		if (c == '?' || i < 0) {
			fprintf(stderr, "pvkvm: unknown option '%s' (try --help)\n", argv[optind - 1]);
			return -1;
		}
		if (apply_one(&opts[i], state))
			return -1;
	}
	/* getopt_long moved the non-options to argv[optind..]. */
	int p = 0;
	for (int i = optind; i < argc; i++)
		argv[1 + p++] = argv[i];
	*nr_positional = p;
	return 0;
}

void cli_print_help(FILE *f, const char *usage, const struct cli_option *opts)
{
	fprintf(f, "%s\noptions:\n", usage);
	for (int i = 0; opts[i].long_name; i++) {
		char left[64];
		snprintf(left, sizeof(left), "%s%c%s--%s%s%s",
			 opts[i].short_name ? "-" : "   ",
			 opts[i].short_name ? opts[i].short_name : ' ',
			 opts[i].short_name ? ", " : "", opts[i].long_name,
			 opts[i].arg_name ? " " : "", opts[i].arg_name ? opts[i].arg_name : "");
		if (!opts[i].short_name)
			snprintf(left, sizeof(left), "    --%s%s%s", opts[i].long_name,
				 opts[i].arg_name ? " " : "", opts[i].arg_name ? opts[i].arg_name : "");
		fprintf(f, "  %-26s %s\n", left, opts[i].help);
	}
	fprintf(f, "  %-26s %s\n", "-h, --help", "show this help and exit");
}

int cli_parse_size(const char *what, const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned int shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (errno || end == s || *s == '-' || *end != '\0' || (v << shift) >> shift != v) {
		fprintf(stderr, "pvkvm: %s '%s' is not a size (bytes, or a number with K, M or G)\n", what, s);
		return -1;
	}
	*out = (uint64_t)v << shift;
	return 0;
}

int cli_parse_uint(const char *what, const char *s, uint64_t min, uint64_t max,
		   uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "pvkvm: %s '%s' must be a number from %llu to %llu\n", what, s,
			(unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

char *cli_join(int argc, char **argv)
{
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}
