/* SPDX-License-Identifier: MIT */
/*
 * Working days in the Asia/Shanghai calendar (node/fsm/calendar.c) as pure
 * functions: weekends, holiday lists, make-up working days on a weekend, a
 * submission on a Friday evening Shanghai time (still a Friday there, a
 * Friday noon in UTC), instants that are one day in UTC and the next in
 * Shanghai, year boundaries (which years a due date consults), a year
 * without a calendar (provisional), response times in working days, date
 * syntax; and every instant of three years, every six hours, against a
 * reference written here on libc's gmtime.
 */
#include "tests/lib/test.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/timefmt.h"
#include "node/fsm/calendar.h"

#define HOUR_MS (3600 * 1000LL)

/* The instant of Shanghai local time y-m-d hh:mm. */
static int64_t
local_ms(int y, unsigned m, unsigned d, int hh, int mm)
{
    return pc_days_from_civil(y, m, d) * CAL_DAY_MS + hh * HOUR_MS +
           mm * 60000LL - CAL_UTC_OFFSET;
}

static int64_t
day_of(const char *s)
{
    int64_t d;

    assert_true(cal_parse_day(s, strlen(s), &d));
    return d;
}

/* A calendar built from date strings (NULL-terminated lists). */
struct fixture_cal {
    struct cal_year y;
    int32_t holidays[64], workdays[64];
};

static void
cal_make(struct fixture_cal *c, int32_t year, const char *const *holidays,
         const char *const *workdays)
{
    memset(c, 0, sizeof(*c));
    c->y.year = year;
    for (size_t i = 0; holidays != NULL && holidays[i] != NULL; i++) {
        c->holidays[c->y.n_holidays++] = (int32_t)day_of(holidays[i]);
    }
    for (size_t i = 0; workdays != NULL && workdays[i] != NULL; i++) {
        c->workdays[c->y.n_workdays++] = (int32_t)day_of(workdays[i]);
    }
    c->y.holidays = c->holidays;
    c->y.workdays = c->workdays;
}

/* Calendars by year for cal_due's lookup; records which years it asked. */
struct cals {
    const struct fixture_cal *c[4];
    size_t n;
    int32_t asked[8];
    size_t n_asked;
};

static const struct cal_year *
lookup(void *arg, int32_t year)
{
    struct cals *cs = arg;

    if (cs->n_asked < 8) {
        cs->asked[cs->n_asked++] = year;
    }
    for (size_t i = 0; i < cs->n; i++) {
        if (cs->c[i]->y.year == year) {
            return &cs->c[i]->y;
        }
    }
    return NULL;
}

static void
check_due(int64_t from, struct cals *cs, const char *want, bool provisional,
          int32_t first, int32_t last, const char *what)
{
    struct cal_due d;
    char got[CAL_DATE_LEN + 1];

    cal_due(from, CAL_OPEN_DAYS, lookup, cs, &d);
    cal_format_day(got, d.day);
    if (strcmp(got, want) != 0 || d.provisional != provisional ||
        d.first_year != first || d.last_year != last) {
        fail_msg("%s: due %s provisional %d years %d-%d; want %s %d %d-%d",
                 what, got, d.provisional, d.first_year, d.last_year, want,
                 provisional, first, last);
    }
    /* due_at: the last millisecond of that day in Shanghai. */
    assert_int_equal(d.at_ms, cal_day_end_ms(d.day));
    assert_int_equal(cal_local_day(d.at_ms), d.day);
    assert_int_equal(cal_local_day(d.at_ms + 1), d.day + 1);
}

/* Dates, weekdays and the Shanghai day of an instant. */
static void
test_calendar_days(void **state)
{
    char s[CAL_DATE_LEN + 1];
    int64_t d;

    (void)state;
    assert_int_equal(cal_weekday(0), 4); /* 1970-01-01, a Thursday */
    assert_int_equal(cal_weekday(day_of("2026-03-06")), 5);
    assert_int_equal(cal_weekday(day_of("2026-03-07")), 6);
    assert_int_equal(cal_weekday(day_of("2026-03-08")), 7);
    assert_int_equal(cal_weekday(day_of("2026-03-09")), 1);
    assert_int_equal(cal_weekday(-1), 3);
    /* 16:00 UTC is midnight in Shanghai. */
    assert_int_equal(cal_local_day(local_ms(2026, 3, 6, 23, 59)),
                     day_of("2026-03-06"));
    assert_int_equal(cal_local_day(local_ms(2026, 3, 7, 0, 0)),
                     day_of("2026-03-07"));
    assert_int_equal(cal_local_day(local_ms(1970, 1, 1, 0, 0)), 0);
    assert_int_equal(cal_local_day(local_ms(1970, 1, 1, 0, 0) - 1), -1);
    assert_int_equal(cal_day_end_ms(0), 16 * HOUR_MS - 1);
    pc_time_parse("2026-03-13T15:59:59.999Z", &d);
    assert_int_equal(cal_day_end_ms(day_of("2026-03-13")), d);
    assert_int_equal(cal_year_of(day_of("2026-12-31")), 2026);
    assert_int_equal(cal_year_of(day_of("2027-01-01")), 2027);
    cal_format_day(s, day_of("2024-02-29"));
    assert_string_equal(s, "2024-02-29");
    cal_format_day(s, day_of("9999-12-31"));
    assert_string_equal(s, "9999-12-31");

    static const char *const bad[] = {
        "2026-02-29", "2100-02-29", "2026-13-01", "2026-00-10",  "2026-04-31",
        "2026-1-01",  "2026/01/01", "1969-12-31", "20260101",    "2026-01-01 ",
        "+026-01-01", "2026-01-0a", "",           "10000-01-01",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (cal_parse_day(bad[i], strlen(bad[i]), &d)) {
            fail_msg("\"%s\" parsed", bad[i]);
        }
    }
    assert_true(cal_parse_day("2000-02-29", 10, &d));
    assert_true(cal_parse_day("1970-01-01", 10, &d));
    assert_int_equal(d, 0);
}

/* Working days: Monday to Friday; holidays off; make-up days worked; a
 * holiday on a weekend changes nothing; no calendar is Monday to Friday. */
static void
test_calendar_working(void **state)
{
    static const char *const hol[] = { "2026-10-01", "2026-10-02", "2026-10-03",
                                       NULL };
    static const char *const work[] = { "2026-09-27", NULL };
    struct fixture_cal c;

    (void)state;
    cal_make(&c, 2026, hol, work);
    assert_true(cal_is_working(day_of("2026-09-30"), &c.y));  /* Wed */
    assert_false(cal_is_working(day_of("2026-10-01"), &c.y)); /* Thu off */
    assert_false(cal_is_working(day_of("2026-10-03"), &c.y)); /* Sat off */
    assert_false(cal_is_working(day_of("2026-10-04"), &c.y)); /* Sun */
    assert_true(cal_is_working(day_of("2026-09-27"), &c.y));  /* Sun worked */
    assert_false(cal_is_working(day_of("2026-09-26"), &c.y)); /* Sat */
    assert_true(cal_is_working(day_of("2026-10-01"), NULL));
    assert_false(cal_is_working(day_of("2026-09-27"), NULL));
    /* 2026 has 261 weekdays; two of these holidays are weekdays. */
    assert_int_equal(cal_working_days_in_year(&c.y), 261 - 2 + 1);
}

/* Due dates, each case by hand: the day of receipt (Shanghai) is not
 * counted, the 10th working day after it is due. */
static void
test_calendar_due_cases(void **state)
{
    static const char *const h_mar[] = { "2026-03-09", "2026-03-10", NULL };
    static const char *const w_mar[] = { "2026-03-14", NULL };
    static const char *const h_wkend[] = { "2026-03-07", "2026-03-08", NULL };
    /* National Day: Oct 1-7 off, Sunday Sep 27 and Saturday Oct 10
     * worked. */
    static const char *const h_oct[] = { "2026-10-01", "2026-10-02",
                                         "2026-10-03", "2026-10-04",
                                         "2026-10-05", "2026-10-06",
                                         "2026-10-07", NULL };
    static const char *const w_oct[] = { "2026-09-27", "2026-10-10", NULL };
    struct fixture_cal mar, mar_w, wkend, oct;
    struct cals none = { { NULL }, 0, { 0 }, 0 };
    struct cals cs;

    (void)state;
    cal_make(&mar, 2026, h_mar, NULL);
    cal_make(&mar_w, 2026, NULL, w_mar);
    cal_make(&wkend, 2026, h_wkend, NULL);
    cal_make(&oct, 2026, h_oct, w_oct);

    /* Weekdays and weekends, no calendar: provisional. */
    check_due(local_ms(2026, 3, 2, 10, 0), &none, "2026-03-16", true, 2026,
              2026, "Monday morning");
    check_due(local_ms(2026, 3, 2, 0, 0), &none, "2026-03-16", true, 2026, 2026,
              "Monday at midnight: the day still is not counted");
    check_due(local_ms(2026, 3, 7, 11, 0), &none, "2026-03-20", true, 2026,
              2026, "Saturday");
    check_due(local_ms(2026, 3, 8, 23, 59), &none, "2026-03-20", true, 2026,
              2026, "Sunday night");

    /* Friday evening in Shanghai: 20:00 there is 12:00 UTC, a Friday in
     * both; 23:59 is still Friday there. */
    check_due(local_ms(2026, 3, 6, 20, 0), &none, "2026-03-20", true, 2026,
              2026, "Friday evening");
    check_due(local_ms(2026, 3, 6, 23, 59), &none, "2026-03-20", true, 2026,
              2026, "Friday 23:59");
    /* Thursday 17:00 UTC is Friday 01:00 in Shanghai: received Friday (a
     * UTC reckoning would say Thursday and answer 2026-03-19). */
    check_due(local_ms(2026, 3, 6, 1, 0), &none, "2026-03-20", true, 2026, 2026,
              "Thursday night UTC, Friday in Shanghai");
    check_due(local_ms(2026, 3, 5, 23, 30), &none, "2026-03-19", true, 2026,
              2026, "Thursday 23:30");

    /* Holidays on Monday and Tuesday push it two days on. */
    cs = (struct cals){ { &mar }, 1, { 0 }, 0 };
    check_due(local_ms(2026, 3, 6, 20, 0), &cs, "2026-03-24", false, 2026, 2026,
              "holidays Mar 9-10");
    /* A make-up working Saturday brings it a day nearer. */
    cs = (struct cals){ { &mar_w }, 1, { 0 }, 0 };
    check_due(local_ms(2026, 3, 6, 20, 0), &cs, "2026-03-19", false, 2026, 2026,
              "make-up working day Mar 14");
    /* Holidays on a weekend change nothing. */
    cs = (struct cals){ { &wkend }, 1, { 0 }, 0 };
    check_due(local_ms(2026, 3, 6, 20, 0), &cs, "2026-03-20", false, 2026, 2026,
              "holidays on a weekend");
    /* National Day week. */
    cs = (struct cals){ { &oct }, 1, { 0 }, 0 };
    check_due(local_ms(2026, 9, 30, 10, 0), &cs, "2026-10-20", false, 2026,
              2026, "National Day");
    check_due(local_ms(2026, 9, 25, 18, 0), &cs, "2026-10-14", false, 2026,
              2026, "before National Day, a worked Sunday");
    check_due(local_ms(2026, 9, 25, 18, 0), &none, "2026-10-09", true, 2026,
              2026, "the same without the calendar");
}

/* Year boundaries: the years a due date consults are those of the days
 * after receipt up to the due day; a year without a calendar among them
 * makes it provisional, whatever the other years have. */
static void
test_calendar_due_year_boundary(void **state)
{
    static const char *const h26[] = { "2026-12-25", NULL };
    static const char *const h27[] = { "2027-01-01", NULL };
    struct fixture_cal c26, c27;
    struct cals cs;

    (void)state;
    cal_make(&c26, 2026, h26, NULL);
    cal_make(&c27, 2027, h27, NULL);

    /* Received Thursday Dec 24: Dec 25 off, Dec 28-31, Jan 1 off, Jan 4-8,
     * Jan 11. */
    cs = (struct cals){ { &c26, &c27 }, 2, { 0 }, 0 };
    check_due(local_ms(2026, 12, 24, 9, 0), &cs, "2027-01-11", false, 2026,
              2027, "both years set");
    assert_int_equal(cs.n_asked, 2);
    assert_int_equal(cs.asked[0], 2026);
    assert_int_equal(cs.asked[1], 2027);
    /* 2027 not set: Jan 1 counts, and the answer is provisional. */
    cs = (struct cals){ { &c26 }, 1, { 0 }, 0 };
    check_due(local_ms(2026, 12, 24, 9, 0), &cs, "2027-01-08", true, 2026, 2027,
              "2027 not set");
    /* 2026 not set: Dec 25 counts. */
    cs = (struct cals){ { &c27 }, 1, { 0 }, 0 };
    check_due(local_ms(2026, 12, 24, 9, 0), &cs, "2027-01-08", true, 2026, 2027,
              "2026 not set");
    /* Received on New Year's Eve in Shanghai: only 2027 is consulted, so
     * 2026's calendar does not matter. */
    cs = (struct cals){ { &c27 }, 1, { 0 }, 0 };
    check_due(local_ms(2026, 12, 31, 20, 0), &cs, "2027-01-15", false, 2027,
              2027, "New Year's Eve");
    assert_int_equal(cs.n_asked, 1);
    assert_int_equal(cs.asked[0], 2027);
    /* 16:30 UTC on Dec 31 is already Jan 1 in Shanghai: not counted. */
    check_due(local_ms(2027, 1, 1, 0, 30), &cs, "2027-01-15", false, 2027, 2027,
              "New Year's Day 00:30");
    /* A due date in December consults one year only. */
    cs = (struct cals){ { &c26 }, 1, { 0 }, 0 };
    check_due(local_ms(2026, 12, 1, 9, 0), &cs, "2026-12-15", false, 2026, 2026,
              "early December");
}

/* n == 0 and the end of the searchable range. */
static void
test_calendar_due_edges(void **state)
{
    struct cal_due d;

    (void)state;
    cal_due(local_ms(2026, 3, 6, 20, 0), 0, NULL, NULL, &d);
    assert_int_equal(d.day, day_of("2026-03-06"));
    cal_due(local_ms(2026, 3, 6, 20, 0), 1, NULL, NULL, &d);
    assert_int_equal(d.day, day_of("2026-03-09"));
    assert_true(d.provisional);
    /* The search stops at the end of 9999. */
    cal_due(local_ms(9999, 12, 30, 12, 0), 10, NULL, NULL, &d);
    assert_int_equal(d.day, day_of("9999-12-31"));
    assert_int_equal(d.last_year, 9999);
}

/* Response times: working days in (received, decided]. */
static void
test_calendar_working_days_between(void **state)
{
    static const char *const hol[] = { "2026-03-10", NULL };
    static const char *const work[] = { "2026-03-14", NULL };
    struct fixture_cal c;
    struct cals cs;
    int64_t fri = day_of("2026-03-06");

    (void)state;
    cal_make(&c, 2026, hol, work);
    cs = (struct cals){ { &c }, 1, { 0 }, 0 };
    assert_int_equal(cal_working_days_between(fri, fri, 64, lookup, &cs), 0);
    assert_int_equal(cal_working_days_between(fri, fri - 3, 64, lookup, &cs),
                     0);
    assert_int_equal(cal_working_days_between(fri, fri + 2, 64, lookup, &cs),
                     0); /* Sun */
    assert_int_equal(cal_working_days_between(fri, fri + 3, 64, lookup, &cs),
                     1); /* Mon */
    /* Mon, (Tue off), Wed, Thu, Fri, Sat worked. */
    assert_int_equal(cal_working_days_between(fri, fri + 8, 64, lookup, &cs),
                     5);
    assert_int_equal(cal_working_days_between(fri, fri + 8, 64, NULL, NULL),
                     5); /* Mon-Fri without the calendar */
    assert_int_equal(cal_working_days_between(fri, fri + 400, 64, lookup, &cs),
                     64); /* capped */
}

/* The reference: a day's date and weekday from libc's gmtime, the lists as
 * strings. */
static bool
ref_working(int64_t day, const char *const *hol, const char *const *work)
{
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    char s[16];

    gmtime_r(&t, &tm);
    strftime(s, sizeof(s), "%Y-%m-%d", &tm);
    for (size_t i = 0; hol[i] != NULL; i++) {
        if (strcmp(hol[i], s) == 0) {
            return false;
        }
    }
    for (size_t i = 0; work[i] != NULL; i++) {
        if (strcmp(work[i], s) == 0) {
            return true;
        }
    }
    return tm.tm_wday >= 1 && tm.tm_wday <= 5;
}

/* Every instant of 2026-2028, every six hours (and a minute either side of
 * Shanghai's midnight), against the reference, with calendars for 2026 and
 * 2028 (2027 unset: provisional whenever consulted). */
static void
test_calendar_due_matches_reference(void **state)
{
    static const char *const h26[] = { "2026-01-01", "2026-02-16", "2026-02-17",
                                       "2026-02-18", "2026-02-19", "2026-02-20",
                                       "2026-05-01", "2026-05-04", "2026-10-01",
                                       "2026-10-02", "2026-10-05", "2026-10-06",
                                       "2026-10-07", "2026-12-31", NULL };
    static const char *const w26[] = { "2026-02-14", "2026-02-28", "2026-09-27",
                                       "2026-10-10", NULL };
    static const char *const h28[] = { "2028-01-03", "2028-12-29", NULL };
    static const char *const w28[] = { "2028-01-08", NULL };
    static const char *const empty[] = { NULL };
    struct fixture_cal c26, c28;
    struct cals cs;
    int64_t start = local_ms(2026, 1, 1, 0, 0),
            end = local_ms(2029, 1, 1, 0, 0);
    size_t checked = 0;

    (void)state;
    cal_make(&c26, 2026, h26, w26);
    cal_make(&c28, 2028, h28, w28);
    cs = (struct cals){ { &c26, &c28 }, 2, { 0 }, 0 };
    for (int64_t t = start; t < end; t += 6 * HOUR_MS) {
        for (int k = -1; k <= 1; k++) {
            int64_t from = t + k * 60000, day = cal_local_day(from), d = day;
            int found = 0, y0, y1;
            bool prov = false;
            struct cal_due due;

            /* The reference: step day by day in Shanghai's calendar. */
            while (found < CAL_OPEN_DAYS) {
                time_t tt = (time_t)(++d * 86400);
                struct tm tm;

                gmtime_r(&tt, &tm);
                if (tm.tm_year + 1900 == 2026) {
                    found += ref_working(d, h26, w26);
                } else if (tm.tm_year + 1900 == 2028) {
                    found += ref_working(d, h28, w28);
                } else {
                    found += ref_working(d, empty, empty);
                    prov = true;
                }
            }
            cal_due(from, CAL_OPEN_DAYS, lookup, &cs, &due);
            y0 = cal_year_of(day + 1);
            y1 = cal_year_of(d);
            if (due.day != d || due.provisional != prov ||
                due.first_year != y0 || due.last_year != y1) {
                char a[CAL_DATE_LEN + 1], b[CAL_DATE_LEN + 1];

                cal_format_day(a, due.day);
                cal_format_day(b, d);
                fail_msg("from %lld: due %s (%d, %d-%d), reference %s (%d, "
                         "%d-%d)",
                         (long long)from, a, due.provisional, due.first_year,
                         due.last_year, b, prov, y0, y1);
            }
            checked++;
        }
    }
    assert_true(checked > 13000);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calendar_days),
        cmocka_unit_test(test_calendar_working),
        cmocka_unit_test(test_calendar_due_cases),
        cmocka_unit_test(test_calendar_due_year_boundary),
        cmocka_unit_test(test_calendar_due_edges),
        cmocka_unit_test(test_calendar_working_days_between),
        cmocka_unit_test(test_calendar_due_matches_reference),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("calendar", tests, NULL, NULL);
}
