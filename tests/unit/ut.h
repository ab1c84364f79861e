/*
 * ut.h - the unit-test harness: TEST(name) defines and registers a test;
 * CHECK() records a failure and carries on, so one run shows every broken
 * assertion. Output is TAP-like ("ok - name" / "not ok - name"), which
 * tests/run counts.
 */
#ifndef UT_H
#define UT_H

#include <stdio.h>
#include <string.h>

struct ut_test {
	const char *name;
	void (*fn)(void);
};

void ut_register(const char *name, void (*fn)(void));
extern int ut_failed;		/* failures in the running test */

#define TEST(name)                                                      \
	static void ut_##name(void);                                    \
	__attribute__((constructor)) static void ut_reg_##name(void)   \
	{ ut_register(#name, ut_##name); }                              \
	static void ut_##name(void)

#define CHECK(cond, ...)                                                \
	do {                                                            \
		if (!(cond)) {                                          \
			ut_failed++;                                    \
			printf("#   %s:%d: CHECK(%s) failed: ", __FILE__,   \
			       __LINE__, #cond);                        \
			printf(__VA_ARGS__);                            \
			printf("\n");                                   \
		}                                                       \
	} while (0)

#define CHECK_EQ_U(a, b)                                                \
	CHECK((unsigned long long)(a) == (unsigned long long)(b),       \
	      "%s = %llu, expected %llu", #a, (unsigned long long)(a),  \
	      (unsigned long long)(b))

static inline int ut_streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

#define CHECK_STR(a, b)                                                 \
	CHECK(ut_streq((a), (b)), "%s = \"%s\", expected \"%s\"", #a,    \
	      ut_streq((a), (a)) ? (a) : "(null)", (b))

/* Path of a fixture under tests/fixtures (tests run from the top folder). */
#define FIXTURE(rel) "tests/fixtures/" rel

#endif
