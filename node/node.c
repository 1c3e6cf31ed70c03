/* SPDX-License-Identifier: MIT */
/*
 * The daemon's lifecycle: data-dir lock, admin token file, raft and HTTP
 * start, the leadership watch (genesis on an empty ledger, recording this
 * leader's client URL, idle ticks, the first barrier of a new term) and a
 * clean stop that hands leadership over first.
 */
#include "node/node.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/timefmt.h"
#include "node/api/api.h"
#include "node/log.h"
#include "node/notify.h"
#include "node/seclog.h"

#define WATCH_MS               50
#define DISK_CHECK_TICKS       20 /* a second */
#define DISK_HANDOVER_EVERY_MS 60000
#define REPORTS_STEP_US        5000 /* of each watch tick, at most */
#define REPORTS_STEP_KEYS      256

static void stop_now(struct node *n);
#define TICK_IDLE_MS        60000
#define SECURITY_SUMMARY_MS 60000

const char *
node_sec_kind_name(unsigned k)
{
    static const char *const names[] = {
#define NODE_SEC_NAME(name, str) str,
        NODE_SEC_KINDS(NODE_SEC_NAME)
#undef NODE_SEC_NAME
    };

    return k < NODE_SEC_N ? names[k] : NULL;
}

void
node_security_event(struct node *n, const char *kind, const char *client,
                    const char *detail)
{
    node_security_event_by(n, kind, client, NULL, NULL, detail);
}

void
node_security_event_by(struct node *n, const char *kind, const char *client,
                       const char *principal, const char *route,
                       const char *detail)
{
    unsigned k = 0;

    while (k < NODE_SEC_OTHER && strcmp(kind, node_sec_kind_name(k)) != 0) {
        k++;
    }
    n->sec.events[k]++;
    if (n->sec.log != NULL) { /* limited per address, rotated: seclog.c */
        seclog_event_by(n->sec.log, (int64_t)uv_now(n->loop), kind, client,
                        principal, route, detail);
    }
}

int
node_reopen_logs(struct node *n, char *errmsg)
{
    if (n->sec.log == NULL) {
        return PC_OK;
    }
    return seclog_reopen(n->sec.log, errmsg);
}

/* ---- files ------------------------------------------------------------ */

static int
lock_data_dir(struct node *n, char *errmsg)
{
    char path[4096];
    struct stat st;

    if (mkdir(n->o.data_dir, 0700) != 0 && errno != EEXIST) {
        return pc_errmsg_sys(errmsg, errno, "create data dir '%s'",
                             n->o.data_dir);
    }
    if (stat(n->o.data_dir, &st) != 0) {
        return pc_errmsg_sys(errmsg, errno, "data dir '%s'", n->o.data_dir);
    }
    if (!S_ISDIR(st.st_mode)) {
        return pc_errmsgf(errmsg, PC_EIO, "data dir '%s' is not a directory",
                          n->o.data_dir);
    }
    snprintf(path, sizeof(path), "%s/LOCK", n->o.data_dir);
    n->files.lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (n->files.lock_fd < 0) {
        return pc_errmsg_sys(errmsg, errno, "open '%s'", path);
    }
    if (flock(n->files.lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(n->files.lock_fd);
        n->files.lock_fd = -1;
        if (e == EWOULDBLOCK) {
            return pc_errmsgf(errmsg, PC_EBUSY,
                              "data dir '%s' is in use by another process",
                              n->o.data_dir);
        }
        return pc_errmsg_sys(errmsg, e, "lock '%s'", path);
    }
    return PC_OK;
}

static int
fsync_dir(const char *path)
{
    char dir[4096];
    char *slash;
    int fd, rc;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else if (slash == dir) {
        dir[1] = '\0';
    } else {
        *slash = '\0';
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    rc = fsync(fd);
    close(fd);
    return rc;
}

#define TOKEN_MIN 16
#define TOKEN_MAX 256

/* A character of RFC 6750's b64token, what a Bearer token may hold. */
static bool
is_token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || (c != '\0' && strchr("-._~+/=", c));
}

/*
 * Read the admin token from the open file `fd` into `tok`: one line, a
 * Bearer token of TOKEN_MIN..TOKEN_MAX characters, in a regular file that
 * others cannot read. PC_OK or PC_EINVAL with `errmsg`.
 */
static int
read_admin_token(int fd, const char *path, char tok[TOKEN_MAX + 2],
                 char *errmsg)
{
    struct stat st;
    ssize_t len;
    size_t n;

    if (fstat(fd, &st) != 0) {
        pc_errmsg_sys(errmsg, errno, "admin token file '%s'", path);
        return PC_EINVAL;
    }
    if (!S_ISREG(st.st_mode)) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "admin token file '%s' is not a regular file", path);
    }
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "admin token file '%s' can be read or written by "
                          "any user (mode %04o): make it private, e.g. "
                          "chmod 600 '%s'",
                          path, (unsigned)(st.st_mode & 07777), path);
    }
    len = read(fd, tok, TOKEN_MAX + 2);
    if (len < 0) {
        pc_errmsg_sys(errmsg, errno, "read admin token file '%s'", path);
        return PC_EINVAL;
    }
    n = (size_t)len;
    if (n > 0 && tok[n - 1] == '\n') {
        n--;
    }
    if (n > 0 && tok[n - 1] == '\r') {
        n--;
    }
    if (n == 0) {
        return pc_errmsgf(errmsg, PC_EINVAL, "admin token file '%s' is empty",
                          path);
    }
    if (n > TOKEN_MAX) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "admin token in '%s' is too long (%d bytes at most)",
                          path, TOKEN_MAX);
    }
    tok[n] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (tok[i] == '\n') {
            return pc_errmsgf(errmsg, PC_EINVAL,
                              "admin token file '%s' holds more than one line",
                              path);
        }
        if (!is_token_char(tok[i])) {
            return pc_errmsgf(errmsg, PC_EINVAL,
                              "admin token in '%s' has a character a token "
                              "cannot have at byte %zu (letters, digits and "
                              "-._~+/= only)",
                              path, i);
        }
    }
    if (n < TOKEN_MIN) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "admin token in '%s' is too short (%d bytes at "
                          "least)",
                          path, TOKEN_MIN);
    }
    return PC_OK;
}

/*
 * Read the admin token (one line) or create it: "pct_" + 32 random bytes,
 * mode 0600, file and directory fsynced before genesis may be proposed.
 * Every failure is PC_EINVAL (exit 2: the file named by the configuration
 * must be fixed) but PC_ENOMEM.
 */
static int
admin_token(struct node *n, char *errmsg)
{
    const char *path = n->o.admin_token_file;
    char tok[TOKEN_MAX + 2];
    uint8_t h[PC_HASH_LEN];
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        rc = read_admin_token(fd, path, tok, errmsg);
        close(fd);
        if (rc != PC_OK) {
            sodium_memzero(tok, sizeof(tok));
            return rc;
        }
    } else if (errno == ENOENT) {
        uint8_t raw[32];
        size_t len;

        randombytes_buf(raw, sizeof(raw));
        memcpy(tok, "pct_", 4);
        sodium_bin2base64(tok + 4, sizeof(tok) - 4, raw, sizeof(raw),
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            pc_errmsg_sys(errmsg, errno, "create admin token file '%s'", path);
            return PC_EINVAL;
        }
        len = strlen(tok);
        tok[len] = '\n';
        if (write(fd, tok, len + 1) != (ssize_t)(len + 1) || fsync(fd) != 0) {
            int e = errno;
            close(fd);
            unlink(path);
            sodium_memzero(tok, sizeof(tok));
            pc_errmsg_sys(errmsg, e, "write admin token file '%s'", path);
            return PC_EINVAL;
        }
        close(fd);
        tok[len] = '\0';
        if (fsync_dir(path) != 0) {
            sodium_memzero(tok, sizeof(tok));
            pc_errmsg_sys(errmsg, errno,
                          "fsync the directory of admin token file '%s'", path);
            return PC_EINVAL;
        }
        node_log(n, 2, "created admin token file '%s' (mode 0600)", path);
    } else {
        pc_errmsg_sys(errmsg, errno, "open admin token file '%s'", path);
        return PC_EINVAL;
    }
    pc_hash(h, tok, strlen(tok));
    sodium_memzero(tok, sizeof(tok));
    n->files.admin_token_hash = pc_malloc(PC_HASH_HEX_LEN + 1);
    if (n->files.admin_token_hash == NULL) {
        return pc_errmsgf(errmsg, PC_ENOMEM, "out of memory");
    }
    pc_hex(n->files.admin_token_hash, h, PC_HASH_LEN);
    return PC_OK;
}

/* Record the log's cluster id in DATA_DIR/cluster-id, or find there that
 * the data dir belongs to another cluster: PC_ECONFLICT with `errmsg`. */
static int
check_cluster_id(struct node *n, char *errmsg)
{
    const char *cid = fsm_cluster_id(n->fsm);
    char have[128] = "";
    FILE *f;

    if (cid == NULL || n->files.cluster_id_ok) {
        return PC_OK;
    }
    f = fopen(n->files.cluster_id_path, "r");
    if (f != NULL) {
        if (fgets(have, sizeof(have), f) == NULL) {
            have[0] = '\0';
        }
        fclose(f);
        have[strcspn(have, "\r\n")] = '\0';
        if (strcmp(have, cid) == 0) {
            n->files.cluster_id_ok = true;
            return PC_OK;
        }
        if (have[0] != '\0') {
            return pc_errmsgf(errmsg, PC_ECONFLICT,
                              "data dir '%s' belongs to cluster %s (its "
                              "cluster-id) but its log is of cluster %s: "
                              "refusing to go on",
                              n->o.data_dir, have, cid);
        }
    }
    f = fopen(n->files.cluster_id_path, "w");
    if (f == NULL) {
        return PC_EIO;
    }
    fprintf(f, "%s\n", cid);
    fflush(f);
    fsync(fileno(f));
    fclose(f);
    n->files.cluster_id_ok = true;
    return PC_OK;
}

/* ---- leadership watch ------------------------------------------------- */

static void
genesis_cb(struct node *n, int rc, const struct fsm_result *res)
{
    n->watch.genesis_in_flight = false;
    if (rc == PC_OK && res != NULL && res->status < 300) {
        node_log(n, 2, "genesis applied: cluster %s", fsm_cluster_id(n->fsm));
    }
}

static void
member_cb(struct node *n, int rc, const struct fsm_result *res)
{
    (void)rc, (void)res;
    n->watch.member_in_flight = false;
}

static void
tick_cb(struct node *n, int rc, const struct fsm_result *res)
{
    (void)rc, (void)res;
    n->watch.tick_in_flight = false;
}

/* True, and `*last_ms` set to `now`, unless it was set less than
 * `every_ms` ago (0: never). */
static bool
once_per(int64_t *last_ms, int64_t now, int64_t every_ms)
{
    if (*last_ms != 0 && now - *last_ms < every_ms) {
        return false;
    }
    *last_ms = now;
    return true;
}

/* A member told this leader its client URL over the peer port (it is not
 * in the ledger, or another is): record it, one at a time. */
static void
record_claimed_url(struct node *n)
{
    const char *url, *address, *cur;
    char id[24];
    uint64_t mid;

    if (n->watch.member_in_flight ||
        clu_url_claim(n->clu, &mid, &url, &address) != PC_OK) {
        return;
    }
    cur = fsm_member_url(n->fsm, mid);
    if (cur != NULL && strcmp(cur, url) == 0) {
        return;
    }
    snprintf(id, sizeof(id), "%llu", (unsigned long long)mid);
    n->watch.member_in_flight =
        api_propose_system(
            n, CMD_MEMBER_URL, id,
            json_pack("{s:s, s:s}", "client_url", url, "address", address),
            member_cb) == PC_OK;
    if (n->watch.member_in_flight) {
        node_log(n, 2, "member %s told its client URL %s: recording it", id,
                 url);
    }
}

/* Once this node learns it was removed from the cluster: say so, and stop
 * when asked to (exit status 0: a removal is an end, not a failure). */
static bool
removed_watch(struct node *n)
{
    const char *why;

    if (n->watch.removed || !clu_removed(n->clu, &why)) {
        return false;
    }
    n->watch.removed = true;
    node_log(n, 0,
             "this node was removed from the cluster (%s): every data route "
             "and /readyz answer 503 removed%s",
             why,
             n->o.exit_when_removed ? "; stopping (--exit-when-removed)" : "");
    if (!n->o.exit_when_removed) {
        return false;
    }
    n->exit_code = 0;
    node_stop(n, NULL, NULL);
    return true;
}

static void
leader_duties(struct node *n)
{
    struct led *l = fsm_led(n->fsm);
    const char *url, *skew;
    char id[24];

    if (!n->reads.leader_ready) {
        return; /* the term's first barrier has not committed yet */
    }
    if ((skew = api_clock_skew(n)) != NULL) {
        /* Stamp nothing (not even a tick) and hand over. */
        if (!clu_transferring(n->clu)) {
            node_security_event(n, "clock_skew", "", skew);
            log_write(LOG_LEVEL_WARN, "leadership_transfer",
                      LOG_FIELDS(LOG_STR("reason", "clock_skew"),
                                 LOG_U64("from", n->o.id), LOG_U64("to", 0)),
                      "%s: handing over leadership", skew);
            clu_transfer(n->clu, 0, NULL, NULL);
        }
        return;
    }
    if (n->disk.low) {
        /* A leader that cannot write proposes nothing (docs/node.md: 507); a
         * follower with room may, so hand over, at most once a minute
         * (when every disk is full, leadership would go round). */
        if (!clu_transferring(n->clu) &&
            once_per(&n->disk.handover_ms, pc_now_ms(),
                     DISK_HANDOVER_EVERY_MS)) {
            log_write(LOG_LEVEL_WARN, "leadership_transfer",
                      LOG_FIELDS(LOG_STR("reason", "disk_full"),
                                 LOG_U64("from", n->o.id), LOG_U64("to", 0),
                                 LOG_U64("free_bytes", n->disk.free)),
                      "disk nearly full: handing over leadership");
            clu_transfer(n->clu, 0, NULL, NULL);
        }
        return;
    }
    if (fsm_cluster_id(n->fsm) == NULL) {
        json_t *cal = NULL;
        uint8_t cid[16];
        char hex[33];

        if (led_count(l) > 0 || n->watch.genesis_in_flight ||
            n->files.admin_token_hash == NULL) {
            return;
        }
        if (n->files.holidays != NULL &&
            (cal = json_loads(n->files.holidays, 0, NULL)) == NULL) {
            return; /* out of memory: the next tick tries again */
        }
        randombytes_buf(cid, sizeof(cid));
        pc_hex(hex, cid, sizeof(cid));
        n->watch.genesis_in_flight =
            api_propose_system(
                n, CMD_GENESIS, NULL,
                json_pack("{s:s, s:s, s:o*}", "cluster_id", hex, "token_hash",
                          n->files.admin_token_hash, "calendar", cal),
                genesis_cb) == PC_OK;
        return;
    }
    url = fsm_member_url(n->fsm, n->o.id);
    if ((url == NULL || strcmp(url, n->o.client_url) != 0) &&
        !n->watch.member_in_flight) {
        snprintf(id, sizeof(id), "%llu", (unsigned long long)n->o.id);
        n->watch.member_in_flight =
            api_propose_system(n, CMD_MEMBER_URL, id,
                               json_pack("{s:s, s:s}", "client_url",
                                         n->o.client_url, "address", n->o.peer),
                               member_cb) == PC_OK;
    }
    record_claimed_url(n);
    if (pc_now_ms() - n->sec.last_summary_ms >= SECURITY_SUMMARY_MS) {
        const uint64_t *ev = n->sec.events;
        uint64_t now[4] = { ev[NODE_SEC_AUTH_FAILURE], ev[NODE_SEC_DENIED],
                            ev[NODE_SEC_RATE_LIMITED], ev[NODE_SEC_MALFORMED] };

        n->sec.last_summary_ms = pc_now_ms();
        if (memcmp(now, n->sec.reported, sizeof(now)) != 0) {
            /* Counts since the last summary: bounded, no addresses. */
            json_t *x = json_pack(
                "{s:I, s:I, s:I, s:I, s:I}", "node", (json_int_t)n->o.id,
                "auth_failures", (json_int_t)(now[0] - n->sec.reported[0]),
                "denials", (json_int_t)(now[1] - n->sec.reported[1]),
                "rate_limited", (json_int_t)(now[2] - n->sec.reported[2]),
                "malformed", (json_int_t)(now[3] - n->sec.reported[3]));
            if (api_propose_system(n, CMD_SECURITY_SUMMARY, NULL, x, NULL) ==
                PC_OK) {
                memcpy(n->sec.reported, now, sizeof(now));
            }
        }
    }
    if (!n->watch.tick_in_flight && pc_now_ms() - led_time(l) >= TICK_IDLE_MS) {
        n->watch.tick_in_flight =
            api_propose_system(n, CMD_TICK, NULL, NULL, tick_cb) == PC_OK;
    }
}

static void
first_barrier_cb(void *arg, int rc)
{
    struct node *n = arg;

    n->reads.barrier_in_flight = false;
    if (rc == PC_OK && clu_is_leader(n->clu)) {
        n->reads.leader_ready = true;
        node_log(n, 2, "leading term %llu",
                 (unsigned long long)clu_term(n->clu));
    }
    api_reads_kick(n);
}

#ifdef PC_TEST_HOOKS
const char *node_test_hook_disk_free_file;

/* The free bytes from node_test_hook_disk_free_file, when it names a file
 * that holds a number: tests without the privilege to mount a small file
 * system fill a disk this way. */
static bool
disk_free_hook(uint64_t *free_bytes)
{
    const char *path = node_test_hook_disk_free_file;
    unsigned long long v;
    FILE *f;
    bool ok;

    if (path == NULL || (f = fopen(path, "r")) == NULL) {
        return false;
    }
    ok = fscanf(f, "%llu", &v) == 1;
    fclose(f);
    if (ok) {
        *free_bytes = v;
    }
    return ok;
}
#else
#define disk_free_hook(free_bytes) false
#endif

bool
node_disk_check(struct node *n)
{
    struct statvfs sv;
    uint64_t free_bytes;
    bool low;

    n->disk.ticks = 0;
    if (!disk_free_hook(&free_bytes)) {
        if (statvfs(n->o.data_dir, &sv) != 0) {
            return n->disk.low; /* keep the last answer */
        }
        free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
    }
    low = free_bytes < n->o.segment_size;
    if (low != n->disk.low) {
        const struct log_field *f =
            LOG_FIELDS(LOG_U64("free_bytes", free_bytes),
                       LOG_U64("segment_bytes", n->o.segment_size));
        if (low) {
            log_write(LOG_LEVEL_WARN, "disk_full", f,
                      "disk nearly full: %llu bytes free, less than one raft "
                      "segment; writes and linearizable reads are refused "
                      "(507), stale reads served",
                      (unsigned long long)free_bytes);
        } else {
            log_write(LOG_LEVEL_INFO, "disk_recovered", f,
                      "disk space back: %llu bytes free; writes accepted",
                      (unsigned long long)free_bytes);
        }
    }
    n->disk.free = free_bytes;
    n->disk.low = low;
    return low;
}

/*
 * How far ledger time (stamped by the leader, carried forward on the
 * monotonic clock since the last live entry) runs ahead of this node's
 * clock. Past CLOCK_BEHIND_MS this node could not lead; on a follower it
 * may also be the leader that runs ahead, which a leader cannot always see
 * itself (the first after a full restart has no reference: docs/node.md),
 * so each follower records it, once a minute while it lasts.
 */
#define CLOCK_WARN_EVERY_MS 60000

static void
clock_watch(struct node *n, bool leader)
{
    int64_t live, now = pc_now_ms();
    char detail[160];

    if (!clu_live_time(n->clu, &live)) {
        return;
    }
    n->clock.ahead_ms = live - now;
    n->clock.known = true;
    if (leader || n->clock.ahead_ms <= CLOCK_BEHIND_MS ||
        !once_per(&n->clock.warned_ms, now, CLOCK_WARN_EVERY_MS)) {
        return;
    }
    snprintf(detail, sizeof(detail),
             "ledger time runs %lld ms ahead of this node's clock (the "
             "leader's clock is ahead, or this one behind; it could not lead)",
             (long long)n->clock.ahead_ms);
    node_security_event(n, "clock_skew", "", detail);
    log_write(LOG_LEVEL_WARN, "clock_skew",
              LOG_FIELDS(LOG_I64("ahead_ms", n->clock.ahead_ms),
                         LOG_U64("leader", clu_leader(n->clu, NULL))),
              "%s", detail);
}

/*
 * The recount of completeness after an entry's required fields changed
 * (fsm_reports_step): keys a few hundred at a time, for at most
 * REPORTS_STEP_US of each watch tick, so that it never holds the loop up
 * for long (docs/rules.md).
 */
static void
reports_step(struct node *n)
{
    uint64_t start = uv_hrtime();

    while (fsm_reports_pending(n->fsm) &&
           uv_hrtime() - start < REPORTS_STEP_US * 1000) {
        if (fsm_reports_step(n->fsm, REPORTS_STEP_KEYS) == 0) {
            break; /* out of memory: the next tick tries again */
        }
    }
}

static void
watch_cb(uv_timer_t *t)
{
    struct node *n = t->data;
    bool leader = clu_is_leader(n->clu);
    char errmsg[PC_ERRMSG_SIZE];

    if (n->stop.fatal) {
        node_stop(n, NULL, NULL);
        return;
    }
    if (n->stop.stopping) {
        if (pc_now_ms() >= n->stop.handover_deadline_ms) {
            stop_now(n);
        }
        return;
    }
    if (check_cluster_id(n, errmsg) == PC_ECONFLICT) {
        node_log(n, 0, "%s", errmsg);
        n->exit_code = 2;
        node_stop(n, NULL, NULL);
        return;
    }
    clu_tick(n->clu);
    if (removed_watch(n)) {
        return;
    }
    if (leader && !n->watch.was_leader) {
        /* A new leader serves no read before its first barrier. */
        n->reads.leader_ready = false;
        if (!n->reads.barrier_in_flight &&
            clu_barrier(n->clu, first_barrier_cb, n) == PC_OK) {
            n->reads.barrier_in_flight = true;
        }
    } else if (!leader && n->watch.was_leader) {
        n->reads.leader_ready = false;
        api_reads_fail(n, 503, "unavailable");
    }
    n->watch.was_leader = leader;
    api_auth_ready(n); /* latched as soon as it holds */
    clock_watch(n, leader);
    seclog_tick(n->sec.log, (int64_t)uv_now(n->loop));
    if (++n->disk.ticks >= DISK_CHECK_TICKS) {
        node_disk_check(n);
    }
    api_waiters_check(n, false);
    reports_step(n);
    if (leader) {
        leader_duties(n);
    }
}

/* After each loop turn's I/O: propose what the turn gathered. */
static void
batch_check_cb(uv_check_t *h)
{
    api_batch_flush(h->data);
}

/* ---- start and stop --------------------------------------------------- */

/* A request the HTTP layer refused (400/413): a malformed request. */
static void
http_rejected(void *arg, const char *client, int status, const char *why)
{
    char detail[256];

    snprintf(detail, sizeof(detail), "%d %s", status, why);
    node_security_event(arg, "malformed", client, detail);
}

static void
fatal_cb(void *arg, int rc, const char *msg)
{
    struct node *n = arg;

    node_log(n, 0, "stopping: %s (%s)", msg, pc_errname(rc));
    /* Called from inside raft's apply: stop from the next timer turn. */
    n->exit_code = 1;
    n->stop.fatal = true;
}

int
node_start(struct node *n, uv_loop_t *loop, const struct node_opts *o,
           char *errmsg)
{
    char raft_dir[4096], seclog_path[4096], purge[4096], host[64];
    struct seclog_opts so;
    struct clu_opts co;
    uint8_t nonce[4];
    char nhex[9];
    const char *colon;
    int rc, port;

    memset(n, 0, sizeof(*n));
    n->loop = loop;
    n->o = *o;
    n->files.lock_fd = -1;
    pc_map_init(&n->sec.fails);
    randombytes_buf(nonce, sizeof(nonce));
    pc_hex(nhex, nonce, sizeof(nonce));
    snprintf(n->ids.prefix, sizeof(n->ids.prefix), "n%llu-%s",
             (unsigned long long)o->id, nhex);
    if (o->holidays_file != NULL) { /* a bad file touches nothing */
        rc = api_holidays_load(o->holidays_file, &n->files.holidays, errmsg);
        if (rc != PC_OK) {
            return rc;
        }
    }
    rc = lock_data_dir(n, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    snprintf(n->files.cluster_id_path, sizeof(n->files.cluster_id_path),
             "%s/cluster-id", o->data_dir);
    snprintf(raft_dir, sizeof(raft_dir), "%s/raft", o->data_dir);
    snprintf(seclog_path, sizeof(seclog_path), "%s/security.log", o->data_dir);
    so = (struct seclog_opts){ seclog_path, o->id, o->seclog_max_bytes,
                               o->seclog_keep, o->seclog_rate };
    rc = seclog_open(&so, &n->sec.log, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    if (o->initial_new && o->admin_token_file != NULL) {
        rc = admin_token(n, errmsg);
        if (rc != PC_OK) {
            return rc;
        }
    } else if (o->initial_new) {
        return pc_errmsgf(errmsg, PC_EINVAL,
                          "--initial-cluster-state new needs "
                          "--admin-token-file");
    }
    rc = fsm_new(&n->fsm);
    if (rc != PC_OK) {
        return pc_errmsgf(errmsg, rc, "out of memory");
    }
    memset(&co, 0, sizeof(co));
    co.id = o->id;
    co.address = o->peer;
    co.raft_dir = raft_dir;
    co.bootstrap = o->initial_new;
    co.peers = o->cluster;
    co.n_peers = o->n_cluster;
    co.election_ms = o->election_ms;
    co.heartbeat_ms = o->heartbeat_ms;
    co.snapshot_threshold = o->snapshot_threshold;
    co.snapshot_trailing = o->snapshot_trailing;
    co.raft_log_budget = o->raft_log_budget;
    co.snapshot_cache = o->snapshot_cache;
    co.max_inflight = o->max_inflight;
    co.segment_size = o->segment_size;
    co.client_url = o->client_url;
    snprintf(purge, sizeof(purge), "%s/redaction-compaction", o->data_dir);
    co.purge_file = purge;
    rc = clu_start(loop, &co, n->fsm, fatal_cb, n, &n->clu, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    if (check_cluster_id(n, errmsg) == PC_ECONFLICT) {
        return PC_EINVAL;
    }
    rc = api_router_new(&n->router, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    api_metrics_setup(n);
    colon = strrchr(o->client, ':');
    if (colon == NULL || (size_t)(colon - o->client) >= sizeof(host)) {
        return pc_errmsgf(errmsg, PC_EINVAL, "bad --client '%s'", o->client);
    }
    memcpy(host, o->client, (size_t)(colon - o->client));
    host[colon - o->client] = '\0';
    port = atoi(colon + 1);
    rc = http_server_start(loop, host, port, &o->limits, api_handle, n,
                           &n->http, errmsg);
    if (rc != PC_OK) {
        return rc;
    }
    http_server_on_reject(n->http, http_rejected, n);
    http_server_on_answer(n->http, api_on_answer, n);
    uv_check_init(loop, &n->batch.check);
    n->batch.check.data = n;
    n->batch.check_open = true;
    uv_check_start(&n->batch.check, batch_check_cb);
    uv_timer_init(loop, &n->watch.timer);
    n->watch.timer.data = n;
    n->watch.timer_open = true;
    node_disk_check(n);
    uv_timer_start(&n->watch.timer, watch_cb, WATCH_MS, WATCH_MS);
    node_log(n, 2, "serving HTTP on %s, raft on %s", o->client, o->peer);
    if (notify_send("READY=1", errmsg) != PC_OK) {
        node_log(n, 1, "%s", errmsg); /* a Type=notify start times out */
    }
    return PC_OK;
}

static void
maybe_done(struct node *n)
{
    if (n->clu != NULL || n->http != NULL || n->watch.timer_open ||
        n->batch.check_open) {
        return;
    }
    seclog_close(n->sec.log);
    n->sec.log = NULL;
    if (n->files.lock_fd >= 0) {
        close(n->files.lock_fd);
        n->files.lock_fd = -1;
    }
    if (n->stopped_cb != NULL) {
        n->stopped_cb(n->stopped_arg);
    }
}

static void
check_closed(uv_handle_t *h)
{
    struct node *n = h->data;

    n->batch.check_open = false;
    maybe_done(n);
}

static void
timer_closed(uv_handle_t *h)
{
    struct node *n = h->data;

    n->watch.timer_open = false;
    maybe_done(n);
}

static void
http_stopped(void *arg)
{
    struct node *n = arg;

    n->http = NULL;
    maybe_done(n);
}

static void
clu_stopped(void *arg)
{
    struct node *n = arg;

    n->clu = NULL;
    maybe_done(n);
}

/* Close everything once leadership is handed over (or was not ours). */
static void
stop_now(struct node *n)
{
    if (n->stop.started) {
        return;
    }
    n->stop.started = true;
    if (n->fsm != NULL) { /* else node_start failed before any request */
        api_reads_fail(n, 503, "unavailable");
        api_waiters_check(n, true);
        api_batch_flush(n); /* proposed before close: raft_close answers */
    }
    if (n->batch.check_open) {
        uv_check_stop(&n->batch.check);
        uv_close((uv_handle_t *)&n->batch.check, check_closed);
    }
    if (n->watch.timer_open) {
        uv_timer_stop(&n->watch.timer);
        uv_close((uv_handle_t *)&n->watch.timer, timer_closed);
    }
    if (n->http != NULL) {
        http_server_stop(n->http, http_stopped, n);
    }
    if (n->clu != NULL) {
        clu_stop(n->clu, clu_stopped, n);
    }
    maybe_done(n);
}

static void
handover_cb(void *arg, int rc)
{
    (void)rc;
    stop_now(arg);
}

void
node_stop(struct node *n, void (*cb)(void *arg), void *arg)
{
    if (cb != NULL) {
        n->stopped_cb = cb;
        n->stopped_arg = arg;
    }
    if (n->stop.stopping) {
        return;
    }
    n->stop.stopping = true;
    notify_send("STOPPING=1", NULL); /* a failure showed at READY=1 */
    if (n->clu != NULL && clu_is_leader(n->clu) &&
        clu_transfer(n->clu, 0, handover_cb, n) == PC_OK) {
        /* A transfer to a dead voter may never report: the watch timer
         * stops us anyway after two election timeouts. */
        log_write(LOG_LEVEL_INFO, "leadership_transfer",
                  LOG_FIELDS(LOG_STR("reason", "stopping"),
                             LOG_U64("from", n->o.id), LOG_U64("to", 0)),
                  "handing leadership over before stopping");
        n->stop.handover_deadline_ms =
            pc_now_ms() + 2 * (int64_t)n->o.election_ms;
        return;
    }
    stop_now(n);
}

void
node_release(struct node *n)
{
    http_router_free(n->router);
    n->router = NULL;
    fsm_free(n->fsm);
    n->fsm = NULL;
    pc_map_release_values(&n->sec.fails, pc_free);
    pc_free(n->files.admin_token_hash);
    n->files.admin_token_hash = NULL;
    pc_free(n->files.holidays);
    n->files.holidays = NULL;
    pc_buf_release(&n->batch.cmds);
    api_audit_release(n);
}
