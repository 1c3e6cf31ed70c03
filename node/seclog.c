/* SPDX-License-Identifier: MIT */
/*
 * The node-local security log (seclog.h): JSON lines, limited per client
 * address, rotated by size, reopened on request.
 *
 * The addresses seen in their current minute are kept in a map for lookup
 * and in a list in the order their minutes began, so ending the minutes
 * that are over takes the head of the list and costs nothing when none
 * is. Rotation renames before it writes, so the current file never passes
 * `max_bytes` (a line is far smaller: its parts are cut to their maxima).
 */
#include "node/seclog.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/map.h"
#include "common/prom.h"
#include "common/timefmt.h"

#define PATH_SIZE 4096

/* One client address in its current minute. */
struct seclog_client {
    struct seclog_client *prev, *next; /* by start_ms, oldest first */
    int64_t start_ms;                  /* monotonic: the minute began */
    int64_t start_wall_ms;             /* the same instant, wall clock */
    unsigned lines;                    /* written in this minute */
    uint64_t suppressed;               /* left out in this minute */
    size_t len;
    char addr[SECLOG_CLIENT_MAX + 1];
};

struct seclog {
    struct seclog_opts o;
    char path[PATH_SIZE];
    int fd; /* -1 after a failed rotation: opened again at the next line */
    struct pc_map clients; /* addr -> struct seclog_client */
    struct seclog_client *head, *tail;
    /* Events of addresses beyond SECLOG_MAX_CLIENTS, in one minute. */
    uint64_t overflow;
    int64_t overflow_ms, overflow_wall_ms;
    struct seclog_stats st;
};

/* Copy at most `cap - 1` bytes of `src` into `dst`, never cutting a UTF-8
 * sequence in two. */
static void
clip(char *dst, size_t cap, const char *src)
{
    size_t n = src != NULL ? strlen(src) : 0;

    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) {
            n--; /* src[n] continues a sequence: leave all of it out */
        }
    }
    if (n > 0) {
        memcpy(dst, src, n);
    }
    dst[n] = '\0';
}

/* Bytes that are not ASCII become '?': for text that is not UTF-8, which
 * JSON cannot carry. */
static void
ascii_only(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s >= 0x80) {
            *s = '?';
        }
    }
}

static int
open_fd(struct seclog *s, char *errmsg)
{
    struct stat st;
    int fd;

    fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return pc_errmsg_sys(errmsg, errno, "open '%s'", s->path);
    }
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return pc_errmsg_sys(errmsg, e, "stat '%s'", s->path);
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    s->fd = fd;
    s->st.bytes = (uint64_t)st.st_size;
    return PC_OK;
}

/* security.log.N-1 -> .N, ..., security.log -> .1, then a new file. */
static int
rotate(struct seclog *s)
{
    char from[PATH_SIZE + 16], to[PATH_SIZE + 16];
    char errmsg[PC_ERRMSG_SIZE];

    for (unsigned i = s->o.keep; i >= 2; i--) {
        snprintf(from, sizeof(from), "%s.%u", s->path, i - 1);
        snprintf(to, sizeof(to), "%s.%u", s->path, i);
        if (rename(from, to) != 0 && errno != ENOENT) {
            return PC_EIO;
        }
    }
    if (s->o.keep >= 1) {
        snprintf(to, sizeof(to), "%s.1", s->path);
        if (rename(s->path, to) != 0 && errno != ENOENT) {
            return PC_EIO;
        }
    } else if (unlink(s->path) != 0 && errno != ENOENT) {
        return PC_EIO;
    }
    /* The old descriptor now writes to security.log.1: never again. */
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    s->st.rotations++;
    return open_fd(s, errmsg);
}

static void
write_line(struct seclog *s, int64_t wall_ms, const char *kind,
           const char *client, const char *principal, const char *route,
           const char *detail)
{
    char at[PC_TIME_STR_LEN], c[SECLOG_CLIENT_MAX + 1];
    char d[SECLOG_DETAIL_MAX + 1];
    char errmsg[PC_ERRMSG_SIZE];
    json_t *o;
    char *line;
    size_t len;
    ssize_t w;

    pc_time_format(at, wall_ms);
    clip(c, sizeof(c), client);
    clip(d, sizeof(d), detail);
    o = json_pack("{s:s, s:I, s:s, s:s, s:s}", "at", at, "node",
                  (json_int_t)s->o.node_id, "kind", kind, "client", c, "detail",
                  d);
    if (o == NULL) { /* not UTF-8 (or out of memory) */
        ascii_only(c);
        ascii_only(d);
        o = json_pack("{s:s, s:I, s:s, s:s, s:s}", "at", at, "node",
                      (json_int_t)s->o.node_id, "kind", kind, "client", c,
                      "detail", d);
    }
    /* Who and which route, when known; values the HTTP layer checked
     * (an id, a route pattern), clipped like the rest. */
    if (o != NULL && principal != NULL && principal[0] != '\0') {
        clip(c, sizeof(c), principal);
        json_object_set_new(o, "principal", json_string(c));
    }
    if (o != NULL && route != NULL && route[0] != '\0') {
        clip(c, sizeof(c), route);
        json_object_set_new(o, "route", json_string(c));
    }
    line = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (line == NULL) {
        s->st.errors++;
        return;
    }
    len = strlen(line);
    line[len++] = '\n'; /* over the NUL: the line is written by length */
    if (s->fd >= 0 && s->st.bytes > 0 && s->st.bytes + len > s->o.max_bytes &&
        rotate(s) != PC_OK) {
        s->st.errors++;
        free(line);
        return;
    }
    if (s->fd < 0 && open_fd(s, errmsg) != PC_OK) {
        s->st.errors++;
        free(line);
        return;
    }
    w = write(s->fd, line, len);
    free(line);
    if (w > 0) {
        s->st.bytes += (uint64_t)w;
    }
    if (w != (ssize_t)len) {
        s->st.errors++;
        return;
    }
    s->st.lines++;
}

/* The line that ends a minute in which `c` had events left out. */
static void
summarize(struct seclog *s, const struct seclog_client *c)
{
    char from[PC_TIME_STR_LEN], detail[256];

    if (c->suppressed == 0) {
        return;
    }
    pc_time_format(from, c->start_wall_ms);
    snprintf(detail, sizeof(detail),
             "%llu more events from this address in the minute from %s were "
             "not logged (at most %u lines a minute per address)",
             (unsigned long long)c->suppressed, from, s->o.per_client);
    write_line(s, pc_now_ms(), "log_suppressed", c->addr, NULL, NULL, detail);
}

static void
summarize_overflow(struct seclog *s)
{
    char from[PC_TIME_STR_LEN], detail[256];

    if (s->overflow == 0) {
        return;
    }
    pc_time_format(from, s->overflow_wall_ms);
    snprintf(detail, sizeof(detail),
             "%llu events from addresses beyond the %d tracked in the minute "
             "from %s were not logged",
             (unsigned long long)s->overflow, SECLOG_MAX_CLIENTS, from);
    write_line(s, pc_now_ms(), "log_suppressed", "", NULL, NULL, detail);
    s->overflow = 0;
}

static void
unlink_client(struct seclog *s, struct seclog_client *c)
{
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        s->head = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    } else {
        s->tail = c->prev;
    }
    c->prev = c->next = NULL;
}

static void
append_client(struct seclog *s, struct seclog_client *c)
{
    c->prev = s->tail;
    c->next = NULL;
    if (s->tail != NULL) {
        s->tail->next = c;
    } else {
        s->head = c;
    }
    s->tail = c;
}

int
seclog_open(const struct seclog_opts *o, struct seclog **out, char *errmsg)
{
    struct seclog *s;
    int rc;

    s = pc_calloc(1, sizeof(*s));
    if (s == NULL) {
        return pc_errmsgf(errmsg, PC_ENOMEM, "out of memory");
    }
    s->o = *o;
    s->fd = -1;
    snprintf(s->path, sizeof(s->path), "%s", o->path);
    s->o.path = s->path;
    if (s->o.per_client == 0) {
        s->o.per_client = 1;
    }
    if (s->o.max_bytes < 4096) {
        s->o.max_bytes = 4096;
    }
    pc_map_init(&s->clients);
    rc = open_fd(s, errmsg);
    if (rc != PC_OK) {
        pc_map_release(&s->clients);
        pc_free(s);
        return rc;
    }
    *out = s;
    return PC_OK;
}

void
seclog_close(struct seclog *s)
{
    struct seclog_client *c, *next;

    if (s == NULL) {
        return;
    }
    for (c = s->head; c != NULL; c = next) {
        next = c->next;
        summarize(s, c);
        pc_free(c);
    }
    summarize_overflow(s);
    pc_map_release(&s->clients);
    if (s->fd >= 0) {
        close(s->fd);
    }
    pc_free(s);
}

void
seclog_event(struct seclog *s, int64_t mono_ms, const char *kind,
             const char *client, const char *detail)
{
    seclog_event_by(s, mono_ms, kind, client, NULL, NULL, detail);
}

void
seclog_event_by(struct seclog *s, int64_t mono_ms, const char *kind,
                const char *client, const char *principal, const char *route,
                const char *detail)
{
    char addr[SECLOG_CLIENT_MAX + 1];
    struct seclog_client *c;
    size_t len;

    clip(addr, sizeof(addr), client);
    len = strlen(addr);
    c = pc_map_get(&s->clients, addr, len);
    if (c != NULL && mono_ms - c->start_ms >= SECLOG_WINDOW_MS) {
        summarize(s, c); /* its minute is over: a new one begins */
        c->start_ms = mono_ms;
        c->start_wall_ms = pc_now_ms();
        c->lines = 0;
        c->suppressed = 0;
        unlink_client(s, c);
        append_client(s, c);
    }
    if (c == NULL && s->clients.len >= SECLOG_MAX_CLIENTS) {
        if (s->overflow++ == 0) {
            s->overflow_ms = mono_ms;
            s->overflow_wall_ms = pc_now_ms();
        }
        s->st.suppressed++;
        return;
    }
    if (c == NULL) {
        c = pc_map_get_or_add(&s->clients, addr, len, sizeof(*c));
        if (c == NULL) {
            /* Out of memory: the line, unlimited (rotation still bounds
             * the files) rather than nothing. */
            write_line(s, pc_now_ms(), kind, addr, principal, route, detail);
            return;
        }
        memcpy(c->addr, addr, len + 1);
        c->len = len;
        c->start_ms = mono_ms;
        c->start_wall_ms = pc_now_ms();
        append_client(s, c);
    }
    if (c->lines >= s->o.per_client) {
        c->suppressed++;
        s->st.suppressed++;
        return;
    }
    c->lines++;
    write_line(s, pc_now_ms(), kind, addr, principal, route, detail);
}

void
seclog_tick(struct seclog *s, int64_t mono_ms)
{
    struct seclog_client *c;

    while ((c = s->head) != NULL && mono_ms - c->start_ms >= SECLOG_WINDOW_MS) {
        summarize(s, c);
        unlink_client(s, c);
        pc_map_del(&s->clients, c->addr, c->len);
        pc_free(c);
    }
    if (s->overflow > 0 && mono_ms - s->overflow_ms >= SECLOG_WINDOW_MS) {
        summarize_overflow(s);
    }
}

int
seclog_reopen(struct seclog *s, char *errmsg)
{
    return open_fd(s, errmsg);
}

void
seclog_stats(const struct seclog *s, struct seclog_stats *out)
{
    *out = s->st;
}

void
seclog_metrics(const struct seclog *s, struct pc_buf *b)
{
    if (s == NULL) {
        return;
    }
    pc_prom_family(b, "provcat_security_log_lines_total", "counter",
                   "Lines written to the security log");
    pc_prom_u64(b, "provcat_security_log_lines_total", NULL, s->st.lines);
    pc_prom_family(b, "provcat_security_log_suppressed_total", "counter",
                   "Security events not written: over the per-address rate "
                   "(counted in log_suppressed lines)");
    pc_prom_u64(b, "provcat_security_log_suppressed_total", NULL,
                s->st.suppressed);
    pc_prom_family(b, "provcat_security_log_rotations_total", "counter",
                   "Rotations of the security log");
    pc_prom_u64(b, "provcat_security_log_rotations_total", NULL,
                s->st.rotations);
    pc_prom_family(b, "provcat_security_log_errors_total", "counter",
                   "Security-log writes or rotations that failed");
    pc_prom_u64(b, "provcat_security_log_errors_total", NULL, s->st.errors);
    pc_prom_family(b, "provcat_security_log_bytes", "gauge",
                   "Size of the current security log file");
    pc_prom_u64(b, "provcat_security_log_bytes", NULL, s->st.bytes);
}
