/*
 * test_gobin.c - where gsrec probes the calls of a function (gs_go_calls_in):
 * only whole CALL instructions, never the same five bytes inside another
 * instruction, and no probe at all when the callee is also jumped to or the
 * code cannot be decoded. The instruction bytes are written out by hand and
 * were checked with objdump -D -b binary -m i386:x86-64.
 */
#include <stdint.h>

#include "common/gobin.h"
#include "ut.h"

#define LO 0x401000ull

/* "CALL target" or "JMP target" (op 0xe8 or 0xe9) written at code[at] */
static void branch(uint8_t *code, size_t at, uint8_t op, uint64_t target)
{
	int32_t rel = (int32_t)(target - (LO + at + 5));

	code[at] = op;
	memcpy(code + at + 1, &rel, 4);
}

TEST(calls_in_whole_instructions_only)
{
	uint8_t code[32];
	uint64_t site[4] = { 0 };
	uint64_t target = LO + 0x1000;

	/* 0: movabs $imm64,%rax, whose bytes 3-7 spell "call target" */
	code[0] = 0x48;
	code[1] = 0xb8;
	code[2] = 0x00;
	branch(code, 3, 0xe8, target);
	code[8] = 0x00;
	code[9] = 0x00;
	/* 10: call target; 15: mov %rcx,(%rsp); 19: call target; 24: ret; int3s */
	branch(code, 10, 0xe8, target);
	memcpy(code + 15, "\x48\x89\x0c\x24", 4);
	branch(code, 19, 0xe8, target);
	code[24] = 0xc3;
	memset(code + 25, 0xcc, sizeof(code) - 25);

	CHECK_EQ_U(gs_go_calls_in(code, sizeof(code), LO, target, site, 4), 2);
	CHECK_EQ_U(site[0], LO + 10);
	CHECK_EQ_U(site[1], LO + 19);
	/* more calls than room: the count, and the first max of them */
	site[1] = 0;
	CHECK_EQ_U(gs_go_calls_in(code, sizeof(code), LO, target, site, 1), 2);
	CHECK_EQ_U(site[1], 0);
	/* another target: none, and nothing decoded */
	CHECK_EQ_U(gs_go_calls_in(code, sizeof(code), LO, target + 1, site, 4), 0);

	/* the same bytes, but the callee is also the target of a jump */
	branch(code, 19, 0xe9, target);
	CHECK(gs_go_calls_in(code, sizeof(code), LO, target, site, 4) == -1,
	      "a tail jump must put the probe back on the entry");
	/* ... only a real jump: one inside the movabs is not */
	branch(code, 19, 0xe8, target);
	code[3] = 0xe9;
	CHECK_EQ_U(gs_go_calls_in(code, sizeof(code), LO, target, site, 4), 2);

	/* code that does not decode (0x06, push %es, is invalid in 64-bit mode) */
	code[0] = 0x06;
	CHECK(gs_go_calls_in(code, sizeof(code), LO, target, site, 4) == -1,
	      "undecodable code must not be probed");
}
