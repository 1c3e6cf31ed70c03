/* SPDX-License-Identifier: MIT */
/* Allocation wrappers, with a countdown fault injector in test builds
 * (PC_TEST_HOOKS) only. */
#include "common/alloc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifdef PC_TEST_HOOKS
static atomic_bool fault_on;
static atomic_long fault_skip; /* allocations still allowed to succeed */
static atomic_long fault_fail; /* failures still to inject; <0 = forever */
/* Per thread: a shared atomic counter cost a locked add per allocation
 * (0.8% of a node's CPU under load). */
static _Thread_local unsigned long n_allocs;

static bool
should_fail(void)
{
    n_allocs++;
    if (!atomic_load_explicit(&fault_on, memory_order_relaxed)) {
        return false;
    }
    if (atomic_fetch_sub(&fault_skip, 1) > 0) {
        return false;
    }
    long left = atomic_load(&fault_fail);
    if (left < 0) {
        return true;
    }
    if (left == 0) {
        return false;
    }
    atomic_fetch_sub(&fault_fail, 1);
    return true;
}
#else
#define should_fail() false
#endif

void *
pc_malloc(size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return malloc(size == 0 ? 1 : size);
}

void *
pc_calloc(size_t n, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
}

void *
pc_realloc(void *p, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return realloc(p, size == 0 ? 1 : size);
}

void
pc_free(void *p)
{
    free(p);
}

char *
pc_strndup(const char *s, size_t n)
{
    char *d = pc_malloc(n + 1);

    if (d == NULL) {
        return NULL;
    }
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *
pc_strdup(const char *s)
{
    return pc_strndup(s, strlen(s));
}

#ifdef PC_TEST_HOOKS
void
pc_alloc_fault(long successes, long failures)
{
    atomic_store(&fault_skip, successes);
    atomic_store(&fault_fail, failures);
    atomic_store(&fault_on, true);
}

void
pc_alloc_fault_off(void)
{
    atomic_store(&fault_on, false);
}

unsigned long
pc_alloc_count(void)
{
    return n_allocs;
}
#endif
