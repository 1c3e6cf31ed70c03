/* SPDX-License-Identifier: MIT */
/*
 * Working-day arithmetic in the Asia/Shanghai calendar. Days are whole
 * local days counted from 1970-01-01; an instant belongs to the local day
 * floor((ms + 8 h) / 24 h). Searches walk day by day, looking a year's
 * calendar up once per year, and stop at the end of CAL_YEAR_MAX.
 */
#include "node/fsm/calendar.h"

#include <stdio.h>

#include "common/timefmt.h"

/* floor(a / b) for b > 0. */
static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && a < 0) ? q - 1 : q;
}

int64_t
cal_local_day(int64_t ms)
{
    return floor_div(ms + CAL_UTC_OFFSET, CAL_DAY_MS);
}

int64_t
cal_day_end_ms(int64_t day)
{
    return (day + 1) * CAL_DAY_MS - CAL_UTC_OFFSET - 1;
}

int
cal_weekday(int64_t day)
{
    /* Day 0 (1970-01-01) was a Thursday, 4. */
    int64_t r = (day + 3) % 7;

    return (int)(r < 0 ? r + 7 : r) + 1;
}

int32_t
cal_year_of(int64_t day)
{
    int64_t y;
    unsigned m, d;

    pc_civil_from_days(day, &y, &m, &d);
    return (int32_t)y;
}

static bool
digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

bool
cal_parse_day(const char *s, size_t len, int64_t *day)
{
    static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30,
                                      31, 31, 30, 31, 30, 31 };
    unsigned y, m, d, last;

    if (s == NULL || len != CAL_DATE_LEN || s[4] != '-' || s[7] != '-' ||
        !digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d)) {
        return false;
    }
    if (y < CAL_YEAR_MIN || y > CAL_YEAR_MAX || m < 1 || m > 12 || d < 1) {
        return false;
    }
    last = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        last = 29;
    }
    if (d > last) {
        return false;
    }
    *day = pc_days_from_civil(y, m, d);
    return true;
}

void
cal_format_day(char out[CAL_DATE_LEN + 1], int64_t day)
{
    int64_t y;
    unsigned m, d;

    pc_civil_from_days(day, &y, &m, &d);
    /* Days outside years 0-9999 never reach here (cal_parse_day, and the
     * searches stop at CAL_YEAR_MAX); the bounds keep the length fixed. */
    snprintf(out, CAL_DATE_LEN + 1, "%04u-%02u-%02u",
             (unsigned)(y < 0 ? 0 : y % 10000), m % 100, d % 100);
}

static bool
listed(const int32_t *days, size_t n, int64_t day)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (days[mid] == day) {
            return true;
        }
        if (days[mid] < day) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return false;
}

bool
cal_is_working(int64_t day, const struct cal_year *y)
{
    bool weekday = cal_weekday(day) <= 5;

    if (y == NULL) {
        return weekday;
    }
    if (weekday) {
        return !listed(y->holidays, y->n_holidays, day);
    }
    return listed(y->workdays, y->n_workdays, day);
}

unsigned
cal_working_days_in_year(const struct cal_year *y)
{
    int64_t first = pc_days_from_civil(y->year, 1, 1);
    int64_t end = pc_days_from_civil((int64_t)y->year + 1, 1, 1);
    unsigned n = 0;

    for (int64_t day = first; day < end; day++) {
        n += cal_is_working(day, y);
    }
    return n;
}

/* Walks days in order, looking each year's calendar up once. */
struct walk {
    cal_lookup_cb lookup;
    void *arg;
    int32_t year;          /* of `cal`; 0 before the first day */
    int64_t next_year_day; /* first day of year + 1 */
    const struct cal_year *cal;
    bool provisional;
};

static bool
walk_working(struct walk *w, int64_t day)
{
    if (w->year == 0 || day >= w->next_year_day) {
        w->year = cal_year_of(day);
        w->next_year_day = pc_days_from_civil((int64_t)w->year + 1, 1, 1);
        w->cal = w->lookup != NULL ? w->lookup(w->arg, w->year) : NULL;
        w->provisional = w->provisional || w->cal == NULL;
    }
    return cal_is_working(day, w->cal);
}

void
cal_due(int64_t from_ms, unsigned n, cal_lookup_cb lookup, void *arg,
        struct cal_due *out)
{
    struct walk w = { lookup, arg, 0, 0, NULL, false };
    int64_t last = pc_days_from_civil(CAL_YEAR_MAX, 12, 31);
    int64_t day = cal_local_day(from_ms);
    unsigned found = 0;

    while (found < n && day < last) {
        day++;
        found += walk_working(&w, day);
    }
    if (w.year == 0) { /* n == 0, or received on the last day */
        w.year = cal_year_of(day);
    }
    out->day = day;
    out->at_ms = cal_day_end_ms(day);
    out->provisional = w.provisional;
    out->first_year = cal_year_of(cal_local_day(from_ms) + 1);
    out->last_year = w.year;
    if (out->first_year > out->last_year) {
        out->first_year = out->last_year;
    }
}

unsigned
cal_working_days_between(int64_t from_day, int64_t to_day, unsigned cap,
                         cal_lookup_cb lookup, void *arg)
{
    struct walk w = { lookup, arg, 0, 0, NULL, false };
    unsigned found = 0;

    for (int64_t day = from_day + 1; day <= to_day && found < cap; day++) {
        found += walk_working(&w, day);
    }
    return found;
}
