/* SPDX-License-Identifier: MIT */
/*
 * Working days in the Asia/Shanghai calendar (UTC+8 all year, no daylight
 * saving), for the open-data deadlines of article 23: Monday to Friday,
 * minus a year's holidays, plus its make-up working days (weekend days that
 * are worked, 调休). Days are counted from 1970-01-01 (day 0, a Thursday).
 * Pure functions of their arguments: no clock, no allocation.
 */
#ifndef PC_CALENDAR_H
#define PC_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAL_DAY_MS       86400000LL
#define CAL_UTC_OFFSET   (8 * 3600 * 1000LL) /* Asia/Shanghai */
#define CAL_YEAR_MIN     1970
#define CAL_YEAR_MAX     9999
#define CAL_DATE_LEN     10 /* "YYYY-MM-DD" */
#define CAL_OPEN_DAYS    10 /* article 23: working days to answer */
#define CAL_MIN_WORKDAYS 10 /* a calendar must leave a year at least these */

/*
 * One year's calendar: days (since 1970-01-01) of that year, each list
 * sorted ascending without repeats. `holidays` are days off (a holiday on
 * a weekend changes nothing); `workdays` are weekend days that are worked.
 */
struct cal_year {
    int32_t year;
    const int32_t *holidays;
    size_t n_holidays;
    const int32_t *workdays;
    size_t n_workdays;
};

/* The calendar of `year`, or NULL when none is set (then Mon-Fri). */
typedef const struct cal_year *(*cal_lookup_cb)(void *arg, int32_t year);

/* The Asia/Shanghai day of instant `ms` (ms since the epoch, UTC). */
int64_t cal_local_day(int64_t ms);
/* The last millisecond of local day `day`, as an instant (ms, UTC). */
int64_t cal_day_end_ms(int64_t day);
/* 1 (Monday) to 7 (Sunday). */
int cal_weekday(int64_t day);
/* The Gregorian year `day` falls in. */
int32_t cal_year_of(int64_t day);

/*
 * Parse "YYYY-MM-DD" (exactly, a valid proleptic Gregorian date, year
 * CAL_YEAR_MIN..CAL_YEAR_MAX) into `*day`. True on success.
 */
bool cal_parse_day(const char *s, size_t len, int64_t *day);
/* Write `day` as "YYYY-MM-DD" and a NUL. */
void cal_format_day(char out[CAL_DATE_LEN + 1], int64_t day);

/*
 * Whether `day` is a working day under `y`, the calendar of the day's year
 * (NULL: none set, so Monday to Friday).
 */
bool cal_is_working(int64_t day, const struct cal_year *y);

/* Working days in year `y->year` under `y`. */
unsigned cal_working_days_in_year(const struct cal_year *y);

/* When a request received at some instant is due, and on what it rests. */
struct cal_due {
    int64_t day;        /* the due day (local) */
    int64_t at_ms;      /* its last millisecond (UTC instant) */
    bool provisional;   /* a year consulted has no calendar */
    int32_t first_year; /* the years consulted: first_year..last_year */
    int32_t last_year;
};

/*
 * The due date of a request received at instant `from_ms`: the end of the
 * `n`th working day after the local day of receipt, which itself is not
 * counted (whatever the hour). Calendars come from `lookup(arg, year)`;
 * the years consulted are those of the days after receipt up to the due
 * day. The search stops at the end of CAL_YEAR_MAX (then that day is
 * due), so it ends for any calendars; calendars that leave each year
 * CAL_MIN_WORKDAYS working days keep it within two years.
 */
void cal_due(int64_t from_ms, unsigned n, cal_lookup_cb lookup, void *arg,
             struct cal_due *out);

/*
 * Working days in (`from_day`, `to_day`], counted up to `cap` (the answer
 * is at most `cap`): how many working days a request received on
 * `from_day` and answered on `to_day` took. 0 when `to_day` <= `from_day`.
 */
unsigned cal_working_days_between(int64_t from_day, int64_t to_day,
                                  unsigned cap, cal_lookup_cb lookup,
                                  void *arg);

#endif
