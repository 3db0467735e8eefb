/* SPDX-License-Identifier: MIT */
/*
 * A Criterion-compatible test runner for the ThreadSanitizer pass only.
 *
 * Criterion 2.4's sandbox (boxfort) cannot start under TSan: its shared
 * "inheritable arena" mmap is refused by the TSan runtime and every test
 * binary aborts before running a test (Criterion issue #274). The TSan build
 * of the unit tests therefore compiles against this header, which implements
 * the subset of Criterion the tests use with the same meaning: each test runs
 * in its own forked process (as Criterion does), .init/.fini/.timeout are
 * honoured, cr_assert* ends the test, cr_expect* marks it failed and goes on,
 * and the run ends with Criterion's "Synthesis" line. A TSan report makes the
 * test's process exit non-zero, so it fails the test.
 */
#ifndef PVKVM_TSAN_CRITERION_H
#define PVKVM_TSAN_CRITERION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct crs_suite {
	const char *name;
	void (*init)(void);
	void (*fini)(void);
	double timeout;
	struct crs_suite *next;
};

struct crs_test {
	const char *suite;
	const char *name;
	void (*fn)(void);
	void (*init)(void);
	void (*fini)(void);
	double timeout;
	bool disabled;
	struct crs_test *next;
};

void crs_register_test(struct crs_test *t);
void crs_register_suite(struct crs_suite *s);
void crs_fail(bool fatal, const char *file, int line, const char *what,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void crs_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define Test(suite_id, test_id, ...)                                           \
	static void crs_fn_##suite_id##_##test_id(void);                       \
	static struct crs_test crs_test_##suite_id##_##test_id = {             \
		.suite = #suite_id, .name = #test_id,                          \
		.fn = crs_fn_##suite_id##_##test_id, __VA_ARGS__};             \
	__attribute__((constructor)) static void                               \
	crs_reg_##suite_id##_##test_id(void)                                   \
	{                                                                      \
		crs_register_test(&crs_test_##suite_id##_##test_id);           \
	}                                                                      \
	static void crs_fn_##suite_id##_##test_id(void)

#define TestSuite(suite_id, ...)                                               \
	static struct crs_suite crs_suite_##suite_id = {.name = #suite_id,     \
							__VA_ARGS__};          \
	__attribute__((constructor)) static void crs_regsuite_##suite_id(void)  \
	{                                                                      \
		crs_register_suite(&crs_suite_##suite_id);                     \
	}

#define crs_check(fatal, cond, what, ...)                                      \
	do {                                                                   \
		if (!(cond))                                                   \
			crs_fail(fatal, __FILE__, __LINE__, what,              \
				 "" __VA_ARGS__);                              \
	} while (0)

#define cr_assert(c, ...) crs_check(true, (c), #c, __VA_ARGS__)
#define cr_expect(c, ...) crs_check(false, (c), #c, __VA_ARGS__)
#define cr_assert_not(c, ...) crs_check(true, !(c), "!(" #c ")", __VA_ARGS__)
#define cr_expect_not(c, ...) crs_check(false, !(c), "!(" #c ")", __VA_ARGS__)
#define cr_assert_fail(...) crs_check(true, 0, "cr_assert_fail", __VA_ARGS__)

#define crs_cmp(fatal, a, op, b, ...)                                          \
	crs_check(fatal, (a) op (b), #a " " #op " " #b, __VA_ARGS__)
#define cr_assert_eq(a, b, ...) crs_cmp(true, a, ==, b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...) crs_cmp(true, a, !=, b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...) crs_cmp(true, a, <, b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) crs_cmp(true, a, <=, b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...) crs_cmp(true, a, >, b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...) crs_cmp(true, a, >=, b, __VA_ARGS__)
#define cr_expect_eq(a, b, ...) crs_cmp(false, a, ==, b, __VA_ARGS__)
#define cr_expect_neq(a, b, ...) crs_cmp(false, a, !=, b, __VA_ARGS__)
#define cr_expect_lt(a, b, ...) crs_cmp(false, a, <, b, __VA_ARGS__)
#define cr_expect_leq(a, b, ...) crs_cmp(false, a, <=, b, __VA_ARGS__)
#define cr_expect_gt(a, b, ...) crs_cmp(false, a, >, b, __VA_ARGS__)
#define cr_expect_geq(a, b, ...) crs_cmp(false, a, >=, b, __VA_ARGS__)

#define cr_assert_null(p, ...) crs_check(true, (p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_assert_not_null(p, ...) crs_check(true, (p) != NULL, #p " != NULL", __VA_ARGS__)
#define cr_expect_null(p, ...) crs_check(false, (p) == NULL, #p " == NULL", __VA_ARGS__)
#define cr_expect_not_null(p, ...) crs_check(false, (p) != NULL, #p " != NULL", __VA_ARGS__)

#define cr_assert_str_eq(a, b, ...) crs_check(true, strcmp((a), (b)) == 0, #a " == " #b, __VA_ARGS__)
#define cr_expect_str_eq(a, b, ...) crs_check(false, strcmp((a), (b)) == 0, #a " == " #b, __VA_ARGS__)
#define cr_assert_str_neq(a, b, ...) crs_check(true, strcmp((a), (b)) != 0, #a " != " #b, __VA_ARGS__)
#define cr_assert_arr_eq(a, b, n, ...) crs_check(true, memcmp((a), (b), (n)) == 0, #a " == " #b, __VA_ARGS__)
#define cr_expect_arr_eq(a, b, n, ...) crs_check(false, memcmp((a), (b), (n)) == 0, #a " == " #b, __VA_ARGS__)

#define cr_skip_test(...) crs_skip("" __VA_ARGS__)
#define cr_log_info(...) ((void)0)

#endif
