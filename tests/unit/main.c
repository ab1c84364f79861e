/* main.c - runs every registered unit test, or those named on the command line. */
#include <stdlib.h>
#include "ut.h"

static struct ut_test tests[512];
static int ntests;
int ut_failed;

void ut_register(const char *name, void (*fn)(void))
{
	if (ntests < (int)(sizeof(tests) / sizeof(tests[0])))
		tests[ntests++] = (struct ut_test){ name, fn };
}

int main(int argc, char **argv)
{
	int pass = 0, fail = 0;

	for (int i = 0; i < ntests; i++) {
		int wanted = argc < 2;

		for (int k = 1; k < argc; k++)
			wanted |= !strcmp(argv[k], tests[i].name);
		if (!wanted)
			continue;
		ut_failed = 0;
		tests[i].fn();
		printf("%s - unit/%s\n", ut_failed ? "not ok" : "ok", tests[i].name);
		fflush(stdout);
		if (ut_failed)
			fail++;
		else
			pass++;
	}
	printf("# unit: %d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}
