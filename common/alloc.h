/* SPDX-License-Identifier: MIT */
/*
 * All provcat allocation goes through these calls so tests can make any
 * allocation fail (sqlite's malloc hook, raft's raft_heap). The fault
 * injector exists only in test builds (-DPC_TEST_HOOKS: the unit tests and
 * provcat-node-test, Makefile), never in provcat-node. Thread-safe: the
 * fault counters are atomics.
 */
#ifndef PC_ALLOC_H
#define PC_ALLOC_H

#include <stddef.h>

void *pc_malloc(size_t size);
void *pc_calloc(size_t n, size_t size);
/* On failure returns NULL and leaves `p` untouched, as realloc does. */
void *pc_realloc(void *p, size_t size);
void pc_free(void *p);
char *pc_strdup(const char *s);
char *pc_strndup(const char *s, size_t n);

#ifdef PC_TEST_HOOKS
/*
 * Fault injection for tests: the next `successes` allocations succeed, then
 * `failures` fail (a negative `failures` means all after). pc_alloc_fault_off()
 * returns to normal. pc_alloc_count() counts the calling thread's
 * allocations since it started. Test builds only.
 */
void pc_alloc_fault(long successes, long failures);
void pc_alloc_fault_off(void);
unsigned long pc_alloc_count(void);
#endif

#endif
