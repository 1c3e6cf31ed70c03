/* SPDX-License-Identifier: MIT */
/* RFC 3339 UTC times with milliseconds, as every provcat answer writes them. */
#ifndef PC_TIMEFMT_H
#define PC_TIMEFMT_H

#include <stdint.h>

#define PC_TIME_STR_LEN 25 /* "2026-11-26T12:34:56.789Z" + NUL */

/* Format `ms` since the Unix epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void pc_time_format(char out[PC_TIME_STR_LEN], int64_t ms);

/*
 * Parse an RFC 3339 time ("Z" or a "+hh:mm" offset; fraction optional, kept
 * to milliseconds). PC_OK or PC_EINVAL.
 */
int pc_time_parse(const char *s, int64_t *ms);

/* Wall clock in ms since the epoch (never used by apply). */
int64_t pc_now_ms(void);

#ifdef PC_TEST_HOOKS
/* Test builds only (node/testhooks.c sets it before main): added to
 * pc_now_ms(), a wrong clock for the tests of the clock-skew guard. */
extern int64_t pc_test_hook_clock_offset_ms;
#endif

/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int64_t pc_days_from_civil(int64_t y, unsigned m, unsigned d);
void pc_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
