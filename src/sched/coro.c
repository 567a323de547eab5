/* SPDX-License-Identifier: MIT */
/*
 * src/sched/coro.c - the stack switch of explore mode's coroutines (coro.h).
 *
 * x86-64: a hand-written switch of the System V callee-saved registers.  Other
 * machines: ucontext (correct, slower: a system call per switch).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sched/coro.h"
#include "sched/sched_internal.h"

/* ---- the sanitizers' fiber APIs ---- */

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CORO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CORO_TSAN 1
#endif
#endif

#ifdef CORO_ASAN
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
				     size_t *size_old);
#endif
#ifdef CORO_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

static void san_before_switch(void **fake, struct coro *to)
{
#ifdef CORO_ASAN
	__sanitizer_start_switch_fiber(fake, to->asan_bottom, to->asan_size);
#else
	(void)fake;
#endif
#ifdef CORO_TSAN
	__tsan_switch_to_fiber(to->tsan_fiber, 0);
#else
	(void)to;
#endif
}

static void san_after_switch(void *fake)
{
#ifdef CORO_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#else
	(void)fake;
#endif
}

/* ---- the switch ---- */

#if defined(__x86_64__)

void coro_switch_asm(void **save_sp, void *load_sp);
void coro_trampoline(void);

/*
 * coro_switch_asm(save_sp, load_sp): push the callee-saved registers, store the
 * stack pointer, load the other one, pop its registers, return into it.  A new
 * coroutine's stack is built to "return" into coro_trampoline with fn in r12 and
 * arg in r13 (coro_create).  mxcsr and the x87 control word are callee-saved too,
 * but nothing here changes them, so both sides agree already.
 */
__asm__(".text\n"
	".globl coro_switch_asm\n"
	".hidden coro_switch_asm\n"
	".type coro_switch_asm,@function\n"
	"coro_switch_asm:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size coro_switch_asm, .-coro_switch_asm\n"
	".globl coro_trampoline\n"
	".hidden coro_trampoline\n"
	".type coro_trampoline,@function\n"
	"coro_trampoline:\n"
	"	movq %r12, %rdi\n"
	"	movq %r13, %rsi\n"
	"	andq $-16, %rsp\n"
	"	call coro_boot\n"
	"	ud2\n"
	".size coro_trampoline, .-coro_trampoline\n");

void coro_boot(void (*fn)(void *), void *arg);

/* A new coroutine's first instructions: tell the sanitizers, run, never return. */
__attribute__((used, visibility("hidden"))) void coro_boot(void (*fn)(void *), void *arg)
{
	san_after_switch(NULL);
	fn(arg);
	__builtin_trap();	/* fn must switch away for good */
}

static void coro_prepare(struct coro *c, void (*fn)(void *), void *arg)
{
	uint64_t *top = (uint64_t *)((char *)c->stack + c->stack_size);

	/* What coro_switch_asm pops: r15 r14 r13 r12 rbx rbp, then the return address. */
	*--top = 0;				/* alignment pad */
	*--top = (uint64_t)(uintptr_t)coro_trampoline;
	*--top = 0;				/* rbp */
	*--top = 0;				/* rbx */
	*--top = (uint64_t)(uintptr_t)fn;	/* r12 */
	*--top = (uint64_t)(uintptr_t)arg;	/* r13 */
	*--top = 0;				/* r14 */
	*--top = 0;				/* r15 */
	c->sp = top;
}

static void coro_jump(struct coro *from, struct coro *to)
{
	coro_switch_asm(&from->sp, to->sp);
}

#else	/* ucontext: portable, one sigprocmask system call per switch */

#include <ucontext.h>

struct coro_uctx {
	ucontext_t uc;
	void (*fn)(void *);
	void *arg;
};

static void coro_uc_boot(unsigned lo, unsigned hi)
{
	struct coro_uctx *u = (struct coro_uctx *)(((uintptr_t)hi << 32) | lo);

	san_after_switch(NULL);
	u->fn(u->arg);
	__builtin_trap();
}

static void coro_prepare(struct coro *c, void (*fn)(void *), void *arg)
{
	struct coro_uctx *u = calloc(1, sizeof(*u));

	if (!u)
		abort();
	getcontext(&u->uc);
	u->uc.uc_stack.ss_sp = c->stack;
	u->uc.uc_stack.ss_size = c->stack_size;
	u->fn = fn;
	u->arg = arg;
	makecontext(&u->uc, (void (*)(void))coro_uc_boot, 2, (unsigned)(uintptr_t)u,
		    (unsigned)((uintptr_t)u >> 32));
	c->sp = u;
}

static void coro_jump(struct coro *from, struct coro *to)
{
	if (!from->sp)
		from->sp = calloc(1, sizeof(struct coro_uctx));
	swapcontext(&((struct coro_uctx *)from->sp)->uc, &((struct coro_uctx *)to->sp)->uc);
}

#endif

void coro_switch(struct coro *from, struct coro *to)
{
	void *fake = NULL;

	san_before_switch(&fake, to);
	coro_jump(from, to);
	san_after_switch(fake);
}

void coro_exit_to(struct coro *from, struct coro *to)
{
	/* NULL: ASan may drop this stack's fake frames, the fiber is going away. */
	san_before_switch(NULL, to);
	coro_jump(from, to);
	__builtin_trap();	/* nobody switches back to an ended coroutine */
}

/* ---- contexts ---- */

void coro_init_thread(struct coro *self)
{
	pthread_attr_t attr;

	memset(self, 0, sizeof(*self));
#ifdef CORO_TSAN
	self->tsan_fiber = __tsan_get_current_fiber();
#endif
	/* ASan wants the bounds of the stack we come back to. */
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		void *addr;
		size_t size;

		if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
			self->asan_bottom = addr;
			self->asan_size = size;
		}
		pthread_attr_destroy(&attr);
	}
}

void coro_fini_thread(struct coro *self)
{
	(void)self;
}

int coro_create(struct coro *c, size_t stack_size, void (*fn)(void *arg), void *arg)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *map;

	memset(c, 0, sizeof(*c));
	stack_size = (stack_size + page - 1) & ~(page - 1);
	map = mmap(NULL, stack_size + page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		return -ENOMEM;
	/* A guard page below the stack: an overflow faults instead of corrupting. */
	mprotect(map, page, PROT_NONE);
	c->stack = map + page;
	c->stack_size = stack_size;
	c->asan_bottom = c->stack;
	c->asan_size = stack_size;
#ifdef CORO_TSAN
	c->tsan_fiber = __tsan_create_fiber(0);
#endif
	coro_prepare(c, fn, arg);
	return 0;
}

/* What a coroutine's run leaves besides its stack: the sanitizers' state, its context. */
static void coro_end_run(struct coro *c)
{
	(void)c;	/* nothing to do on x86-64 without sanitizers */
#ifdef CORO_TSAN
	__tsan_destroy_fiber(c->tsan_fiber);
#endif
#if !defined(__x86_64__)
	free(c->sp);
#endif
#ifdef CORO_ASAN
	/* An abandoned coroutine's frames leave poisoned redzones behind; the next
	 * run on this stack, or stack mapped at this address, must not inherit them. */
	__asan_unpoison_memory_region(c->stack, c->stack_size);
#endif
}

void coro_recycle(struct coro *c, void (*fn)(void *arg), void *arg)
{
	coro_end_run(c);
#ifdef CORO_TSAN
	c->tsan_fiber = __tsan_create_fiber(0);
#endif
	coro_prepare(c, fn, arg);
}

void coro_destroy(struct coro *c)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (!c->stack)
		return;
	coro_end_run(c);
	munmap((char *)c->stack - page, c->stack_size + page);
	c->stack = NULL;
}
