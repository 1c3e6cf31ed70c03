/* SPDX-License-Identifier: MIT */
/*
 * The libprovcat client: endpoints, the token, one libcurl easy handle
 * (whose connection cache keeps a connection to each node alive), and the
 * request loop every call goes through.
 *
 * The loop sends a write or a linearizable read to the leader when it
 * knows one, else to the next endpoint. A 307 is followed only when its
 * Location is the origin of a known node (an endpoint, or a member listed by
 * an endpoint's /v1/status), so the token never leaves the cluster. A node
 * that cannot be reached is skipped for a while and the next one tried; an
 * answer that says nothing was done (503 unavailable, clock_skew or
 * removed, 507) is retried elsewhere; after each round over the nodes the
 * loop sleeps an exponential backoff with jitter. A write is re-sent after
 * it may have reached a server (a connection lost mid-request, 503
 * outcome_unknown) only when it carries an Idempotency-Key this client
 * generated, so the server applies it once whatever happens. Everything
 * stops at the call's deadline.
 */
#include "client/client_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/hash.h"

/* ---- codes ---------------------------------------------------------- */

PROVCAT_API const char *
provcat_strerror(int rc)
{
    switch (rc) {
    case PROVCAT_OK:
        return "success";
#define PCL_MSG(name, value, code, msg) \
    case PROVCAT_##name:                \
        return msg;
        PROVCAT_ERR_MAP(PCL_MSG)
#undef PCL_MSG
    }
    return "unknown error";
}

PROVCAT_API const char *
provcat_errname(int rc)
{
    switch (rc) {
    case PROVCAT_OK:
        return "OK";
#define PCL_NAME(name, value, code, msg) \
    case PROVCAT_##name:                 \
        return #name;
        PROVCAT_ERR_MAP(PCL_NAME)
#undef PCL_NAME
    }
    return "EUNKNOWN";
}

PROVCAT_API int
provcat_code_from_string(const char *code)
{
    static const struct {
        const char *code;
        int rc;
    } map[] = {
#define PCL_CODE(name, value, code, msg) { code, PROVCAT_##name },
        PROVCAT_ERR_MAP(PCL_CODE)
#undef PCL_CODE
    };

    if (code == NULL) {
        return PROVCAT_ESERVER;
    }
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (map[i].code != NULL && strcmp(map[i].code, code) == 0) {
            return map[i].rc;
        }
    }
    return PROVCAT_ESERVER;
}

/* The code of an answer that carried no error body (a proxy's, say). */
static int
code_of_status(int status)
{
    switch (status) {
    case 400:
        return PROVCAT_EBADREQUEST;
    case 401:
        return PROVCAT_EUNAUTHORIZED;
    case 403:
        return PROVCAT_EFORBIDDEN;
    case 404:
        return PROVCAT_ENOTFOUND;
    case 405:
        return PROVCAT_EMETHOD;
    case 409:
        return PROVCAT_ECONFLICT;
    case 413:
        return PROVCAT_ETOOLARGE;
    case 422:
        return PROVCAT_EINVALID;
    case 429:
        return PROVCAT_ERATELIMITED;
    case 502:
    case 503:
    case 504:
        return PROVCAT_EUNAVAILABLE;
    case 507:
        return PROVCAT_ENOSPACE;
    }
    return PROVCAT_ESERVER;
}

PROVCAT_API void
provcat_free(void *p)
{
    pc_free(p);
}

/* ---- time and randomness ---- */

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void
global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
        sodium_init() < 0) {
        init_rc = PROVCAT_ENOMEM;
    }
}

/* ---- errors ----------------------------------------------------------- */

void
pcl_reset(struct provcat *c)
{
    pc_free(c->err_json);
    pc_free(c->err_field);
    pc_free(c->err_key);
    c->err_json = c->err_field = c->err_key = NULL;
    c->errmsg[0] = c->message[0] = c->server_code[0] = '\0';
    memset(&c->err, 0, sizeof(c->err));
    c->err.message = c->message;
    c->err.index = -1;
    c->err.current_version = -1;
}

static void
set_errmsg(struct provcat *c, const char *what)
{
    if (what != NULL && what[0] != '\0') {
        snprintf(c->errmsg, sizeof(c->errmsg), "%.100s: %s", what, c->message);
    } else {
        snprintf(c->errmsg, sizeof(c->errmsg), "%s", c->message);
    }
}

/* Record a failure of the client's own: `rc`, the message from `fmt`,
 * and `what` (or nothing) as its context. */
static int vfail(struct provcat *c, int rc, const char *what, const char *fmt,
                 va_list ap) __attribute__((format(printf, 4, 0)));

static int
vfail(struct provcat *c, int rc, const char *what, const char *fmt, va_list ap)
{
    pcl_reset(c);
    vsnprintf(c->message, sizeof(c->message), fmt, ap);
    c->err.code = rc;
    set_errmsg(c, what);
    return rc;
}

int
pcl_fail(struct provcat *c, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    rc = vfail(c, rc, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int
pcl_oom(struct provcat *c, const char *what)
{
    return pcl_fail(c, PROVCAT_ENOMEM, "%s: out of memory", what);
}

/* Record the error answer now in c->body. */
static int
answer_error(struct provcat *c, const char *what)
{
    json_t *o, *e, *v;
    int rc;

    pcl_reset(c);
    c->err.http_status = c->status;
    rc = code_of_status(c->status);
    o = json_loadb((const char *)c->body.data, c->body.len, 0, NULL);
    e = json_object_get(o, "error");
    if (json_is_object(e)) {
        v = json_object_get(e, "code");
        if (json_is_string(v)) {
            snprintf(c->server_code, sizeof(c->server_code), "%s",
                     json_string_value(v));
            c->err.server_code = c->server_code;
            rc = provcat_code_from_string(c->server_code);
        }
        v = json_object_get(e, "message");
        snprintf(c->message, sizeof(c->message), "%s",
                 json_is_string(v) ? json_string_value(v) : "");
        c->err_field = pcl_jstrdup(e, "field", &rc);
        c->err_key = pcl_jstrdup(e, "key", &rc);
        v = json_object_get(e, "index");
        if (json_is_integer(v)) {
            c->err.index = json_integer_value(v);
        }
        v = json_object_get(e, "current_version");
        if (json_is_integer(v)) {
            c->err.current_version = json_integer_value(v);
        }
        c->err_json = pc_strndup((const char *)c->body.data, c->body.len);
    } else {
        snprintf(c->message, sizeof(c->message),
                 "HTTP %d without an error body", c->status);
    }
    json_decref(o);
    c->err.code = rc;
    c->err.field = c->err_field;
    c->err.key = c->err_key;
    c->err.json = c->err_json;
    set_errmsg(c, what);
    return rc;
}

static int local_error(struct provcat *c, int rc, const char *what,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
local_error(struct provcat *c, int rc, const char *what, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    rc = vfail(c, rc, what, fmt, ap);
    va_end(ap);
    return rc;
}

PROVCAT_API const struct provcat_error *
provcat_last_error(const struct provcat *c)
{
    return &c->err;
}

PROVCAT_API const char *
provcat_errmsg(const struct provcat *c)
{
    return c->errmsg;
}

PROVCAT_API uint64_t
provcat_last_revision(const struct provcat *c)
{
    return c->last_revision;
}

PROVCAT_API const char *
provcat_leader(const struct provcat *c)
{
    return c->leader >= 0 ? c->nodes[c->leader].origin : NULL;
}

/* ---- origins ---------------------------------------------------------- */

/*
 * Normalise a base URL or Location to its origin "scheme://host:port"
 * (lower-case scheme and host, explicit port). `*rest` gets what follows the
 * authority. NULL if it is not an http(s) URL, or on no memory.
 */
static char *
origin_of(const char *url, const char **rest)
{
    const char *p = url, *host, *end;
    bool tls = false;
    char *out;
    size_t hlen;
    const char *port = NULL;
    size_t plen = 0;

    while (*p == ' ') {
        p++;
    }
    if (strncasecmp(p, "http://", 7) == 0) {
        p += 7;
    } else if (strncasecmp(p, "https://", 8) == 0) {
        p += 8;
        tls = true;
    } else if (strstr(p, "://") != NULL) {
        return NULL;
    }
    host = p;
    if (*p == '[') {
        end = strchr(p, ']');
        if (end == NULL) {
            return NULL;
        }
        p = end + 1;
    } else {
        while (*p != '\0' && *p != ':' && *p != '/' && *p != '?' && *p != ' ') {
            p++;
        }
    }
    hlen = (size_t)(p - host);
    if (*p == ':') {
        port = ++p;
        while (*p >= '0' && *p <= '9') {
            p++;
        }
        plen = (size_t)(p - port);
        if (plen == 0 || plen > 5) {
            return NULL;
        }
    }
    if (hlen == 0 || (*p != '\0' && *p != '/' && *p != '?' && *p != ' ')) {
        return NULL;
    }
    if (rest != NULL) {
        *rest = p;
    }
    out = pc_malloc(8 + hlen + 1 + (plen ? plen : 3) + 1);
    if (out == NULL) {
        return NULL;
    }
    sprintf(out, "%s://%.*s:%.*s", tls ? "https" : "http", (int)hlen, host,
            (int)(plen ? plen : 3), plen ? port : (tls ? "443" : "80"));
    for (char *q = out; *q != '\0'; q++) {
        if (*q >= 'A' && *q <= 'Z') {
            *q = (char)(*q - 'A' + 'a');
        }
    }
    return out;
}

static long
find_node(const struct provcat *c, const char *origin)
{
    for (size_t i = 0; i < c->n_nodes; i++) {
        if (strcmp(c->nodes[i].origin, origin) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* Add `origin` (taken over on success) unless known. */
static int
add_node(struct provcat *c, char *origin, bool configured)
{
    struct pcl_node *n;

    if (find_node(c, origin) >= 0) {
        pc_free(origin);
        return PROVCAT_OK;
    }
    n = pc_realloc(c->nodes, (c->n_nodes + 1) * sizeof(*n));
    if (n == NULL) {
        return PROVCAT_ENOMEM;
    }
    c->nodes = n;
    n[c->n_nodes].origin = origin;
    n[c->n_nodes].configured = configured;
    n[c->n_nodes].down_until_ms = 0;
    c->n_nodes++;
    if (configured) {
        c->n_configured++;
    }
    return PROVCAT_OK;
}

PROVCAT_API const char *const *
provcat_origins(struct provcat *c, size_t *n)
{
    const char **v = pc_realloc(c->origins_view, (c->n_nodes + 1) * sizeof(*v));

    if (v == NULL) {
        *n = 0;
        return NULL;
    }
    c->origins_view = v;
    for (size_t i = 0; i < c->n_nodes; i++) {
        v[i] = c->nodes[i].origin;
    }
    v[c->n_nodes] = NULL;
    *n = c->n_nodes;
    return v;
}

/* ---- lifecycle ---------------------------------------------------------- */

static void *
new_curl(void)
{
    CURL *h = curl_easy_init();

    if (h == NULL) {
        return NULL;
    }
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "libprovcat/" PROVCAT_VERSION);
    curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 16L);
    /* No proxy from the environment: the token goes to cluster nodes
     * only (and curl stops reading the proxy variables per request). */
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    return h;
}

static struct provcat *
client_alloc(void)
{
    struct provcat *c;

    pthread_once(&init_once, global_init);
    if (init_rc != PROVCAT_OK) {
        return NULL;
    }
    c = pc_calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->leader = -1;
    c->answered = -1;
    c->timeout_ms = PCL_DEFAULT_TIMEOUT_MS;
    pc_buf_init(&c->body);
    pcl_reset(c);
    c->curl = new_curl();
    if (c->curl == NULL) {
        pc_free(c);
        return NULL;
    }
    return c;
}

PROVCAT_API int
provcat_new(const char *endpoints, const char *token, struct provcat **out,
            char *errmsg)
{
    struct provcat *c;
    char *list, *save = NULL, *tok;
    int rc = PROVCAT_OK;

    if (endpoints == NULL) {
        endpoints = getenv("PROVCAT_ENDPOINTS");
    }
    if (token == NULL) {
        token = getenv("PROVCAT_TOKEN");
    }
    if (endpoints == NULL || endpoints[0] == '\0') {
        if (errmsg != NULL) {
            snprintf(errmsg, PROVCAT_ERRMSG_SIZE,
                     "no endpoints (give a list or set PROVCAT_ENDPOINTS)");
        }
        return PROVCAT_EINVAL;
    }
    c = client_alloc();
    list = pc_strdup(endpoints);
    if (c == NULL || list == NULL) {
        pc_free(list);
        provcat_close(c);
        return PROVCAT_ENOMEM;
    }
    for (tok = strtok_r(list, ", ", &save); tok != NULL && rc == PROVCAT_OK;
         tok = strtok_r(NULL, ", ", &save)) {
        const char *rest = NULL;
        char *o = origin_of(tok, &rest);

        if (o == NULL || (rest[0] != '\0' && strcmp(rest, "/") != 0)) {
            pc_free(o);
            if (errmsg != NULL) {
                snprintf(errmsg, PROVCAT_ERRMSG_SIZE,
                         "endpoint '%s' is not http(s)://host:port", tok);
            }
            rc = PROVCAT_EINVAL;
            break;
        }
        rc = add_node(c, o, true);
        if (rc != PROVCAT_OK) {
            pc_free(o);
        }
    }
    pc_free(list);
    if (rc == PROVCAT_OK && c->n_nodes == 0) {
        if (errmsg != NULL) {
            snprintf(errmsg, PROVCAT_ERRMSG_SIZE, "no endpoints in '%s'",
                     endpoints);
        }
        rc = PROVCAT_EINVAL;
    }
    if (rc == PROVCAT_OK && token != NULL && token[0] != '\0') {
        c->token = pc_strdup(token);
        if (c->token == NULL) {
            rc = PROVCAT_ENOMEM;
        }
    }
    if (rc != PROVCAT_OK) {
        provcat_close(c);
        return rc;
    }
    *out = c;
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_dup(const struct provcat *src, struct provcat **out)
{
    struct provcat *c = client_alloc();

    if (c == NULL) {
        return PROVCAT_ENOMEM;
    }
    for (size_t i = 0; i < src->n_nodes; i++) {
        char *o = pc_strdup(src->nodes[i].origin);

        if (o == NULL || add_node(c, o, src->nodes[i].configured) != 0) {
            pc_free(o);
            provcat_close(c);
            return PROVCAT_ENOMEM;
        }
    }
    c->leader = src->leader;
    c->cur = randombytes_uniform((uint32_t)c->n_nodes);
    c->timeout_ms = src->timeout_ms;
    c->stale = src->stale;
    c->min_revision = src->min_revision;
    c->has_trusted = src->has_trusted;
    c->trusted = src->trusted;
    if ((src->token != NULL && (c->token = pc_strdup(src->token)) == NULL) ||
        (src->state_path != NULL &&
         (c->state_path = pc_strdup(src->state_path)) == NULL)) {
        provcat_close(c);
        return PROVCAT_ENOMEM;
    }
    *out = c;
    return PROVCAT_OK;
}

PROVCAT_API void
provcat_close(struct provcat *c)
{
    if (c == NULL) {
        return;
    }
    if (c->curl != NULL) {
        curl_easy_cleanup(c->curl);
    }
    for (size_t i = 0; i < c->n_nodes; i++) {
        pc_free(c->nodes[i].origin);
    }
    pc_free(c->nodes);
    pc_free(c->origins_view);
    if (c->token != NULL) {
        sodium_memzero(c->token, strlen(c->token));
    }
    pc_free(c->token);
    pc_free(c->location);
    pc_free(c->state_path);
    pc_buf_release(&c->body);
    pcl_reset(c);
    pc_free(c);
}

PROVCAT_API void
provcat_set_timeout_ms(struct provcat *c, long timeout_ms)
{
    c->timeout_ms = timeout_ms < 0 ? 0 : timeout_ms;
}

PROVCAT_API void
provcat_set_stale_reads(struct provcat *c, bool stale)
{
    c->stale = stale;
}

PROVCAT_API void
provcat_set_min_revision(struct provcat *c, uint64_t revision)
{
    if (revision > c->min_revision) {
        c->min_revision = revision;
    }
}

static bool
idem_key_valid(const char *k)
{
    size_t n = strlen(k);

    if (n < 1 || n > 64) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = k[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == ':' ||
              ch == '-')) {
            return false;
        }
    }
    return true;
}

PROVCAT_API int
provcat_set_idempotency_key(struct provcat *c, const char *key)
{
    pcl_reset(c);
    if (key == NULL || !idem_key_valid(key)) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "an Idempotency-Key is 1-64 of [A-Za-z0-9._:-]");
    }
    snprintf(c->idem_next, sizeof(c->idem_next), "%s", key);
    return PROVCAT_OK;
}

/* ---- one attempt ------------------------------------------------------ */

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
    struct provcat *c = arg;
    size_t len = size * n, nl;
    const char *v;

#define IS_HDR(name)                                                      \
    (len > sizeof(name) && strncasecmp(p, name ":", sizeof(name)) == 0 && \
     (v = p + sizeof(name)) != NULL)
    nl = len;
    while (nl > 0 && (p[nl - 1] == '\r' || p[nl - 1] == '\n')) {
        nl--;
    }
    if (IS_HDR("Location")) {
        while (*v == ' ') {
            v++;
        }
        pc_free(c->location);
        c->location = pc_strndup(v, nl - (size_t)(v - p));
    } else if (IS_HDR("X-Provcat-Revision")) {
        c->last_revision = strtoull(v, NULL, 10);
    } else if (IS_HDR("Idempotent-Replayed")) {
        c->replayed = true;
    } else if (IS_HDR("X-Provcat-Backup-Revision")) {
        c->backup_revision = strtoull(v, NULL, 10);
    } else if (IS_HDR("X-Provcat-Backup-Root")) {
        while (*v == ' ') {
            v++;
        }
        size_t hl = nl - (size_t)(v - p);
        if (hl == PROVCAT_HASH_HEX_LEN) {
            memcpy(c->backup_root, v, hl);
            c->backup_root[hl] = '\0';
        }
    }
#undef IS_HDR
    return len;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    struct provcat *c = arg;
    const struct pcl_req *r = c->req;
    size_t len = size * n;
    long status = 0;

    if (r != NULL && r->sink != NULL) {
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status == 200) {
            curl_off_t total = -1;

            if (r->sink(r->arg, p, len) != 0) {
                c->sink_failed = true;
                return 0; /* curl stops with CURLE_WRITE_ERROR */
            }
            c->delivered += len;
            if (r->progress != NULL) {
                curl_easy_getinfo(c->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
                                  &total);
                r->progress(r->arg, c->delivered,
                            total > 0 ? (uint64_t)total : 0);
            }
            return len;
        }
    }
    if (pc_buf_put(&c->body, p, len) != PC_OK) {
        return 0;
    }
    return len;
}

static struct curl_slist *add_hdr(struct curl_slist *l, bool *ok,
                                  const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static struct curl_slist *
add_hdr(struct curl_slist *l, bool *ok, const char *fmt, ...)
{
    char line[PROVCAT_ERRMSG_SIZE];
    struct curl_slist *n;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    n = curl_slist_append(l, line);
    if (n == NULL) {
        *ok = false;
        return l;
    }
    return n;
}

/*
 * Send `r` once to node `node`. Returns the curl code; c->status is the
 * HTTP status (0 without an answer) and `*sent` whether any byte of the
 * request may have reached the server.
 */
static CURLcode
attempt(struct provcat *c, const struct pcl_req *r, size_t node,
        const char *idem, bool stale, int64_t deadline, bool *sent)
{
    CURL *h = c->curl;
    struct curl_slist *hdrs = NULL;
    struct pc_buf url;
    bool ok = true;
    CURLcode cc;
    long status = 0, req_size = 0;

    c->status = 0;
    c->body.len = 0;
    pc_free(c->location);
    c->location = NULL;
    c->replayed = false;
    c->backup_revision = 0;
    c->backup_root[0] = '\0';
    c->req = r;
    *sent = false;

    pc_buf_init(&url);
    ok = pc_buf_printf(&url, "%s%s", c->nodes[node].origin, r->path) == PC_OK;
    if (ok && stale) {
        ok = pcl_query(&url, "consistency", "stale") == PC_OK;
        if (ok && c->min_revision > 0) {
            ok = pcl_query_u64(&url, "min_revision", c->min_revision) == PC_OK;
        }
    }
    if (c->token != NULL) {
        hdrs = add_hdr(hdrs, &ok, "Authorization: Bearer %s", c->token);
    }
    if (r->body != NULL) {
        hdrs = add_hdr(hdrs, &ok, "Content-Type: application/json");
    } else if (strcmp(r->method, "GET") != 0) {
        /* No body: not even curl's form Content-Type. */
        hdrs = add_hdr(hdrs, &ok, "Content-Type:");
    }
    if (idem != NULL) {
        hdrs = add_hdr(hdrs, &ok, "Idempotency-Key: %s", idem);
    }
    if (r->if_version == PROVCAT_CREATE_ONLY) {
        hdrs = add_hdr(hdrs, &ok, "If-None-Match: *");
    } else if (r->if_version > 0) {
        hdrs =
            add_hdr(hdrs, &ok, "If-Match: \"%lld\"", (long long)r->if_version);
    }
    hdrs = add_hdr(hdrs, &ok, "Expect:");
    if (!ok) {
        curl_slist_free_all(hdrs);
        pc_buf_release(&url);
        return CURLE_OUT_OF_MEMORY;
    }

    curl_easy_setopt(h, CURLOPT_URL, (char *)url.data);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    if (strcmp(r->method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    } else {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(r->body ? r->body_len : 0));
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST,
                         strcmp(r->method, "POST") == 0 ? NULL : r->method);
    }
    if (deadline != INT64_MAX) {
        int64_t left = deadline - now_ms();

        left = left < 1 ? 1 : left;
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)left);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)(left < PCL_CONNECT_TIMEOUT_MS
                                    ? left
                                    : PCL_CONNECT_TIMEOUT_MS));
    } else {
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)PCL_CONNECT_TIMEOUT_MS);
    }

    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &req_size);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    pc_buf_release(&url);
    c->req = NULL;
    c->status = cc == CURLE_OK ? (int)status : 0;
    /* A request whose header never went out cannot have been served. */
    *sent = cc == CURLE_OK || req_size > 0;
    /* Keep the body NUL-terminated for the parsers. */
    if (cc == CURLE_OK && pc_buf_put_u8(&c->body, '\0') == PC_OK) {
        c->body.len--;
    } else if (cc == CURLE_OK) {
        cc = CURLE_OUT_OF_MEMORY;
    }
    return cc;
}

/* ---- the request loop ------------------------------------------------- */

static void
new_idem_key(char out[65])
{
    uint8_t raw[24];

    randombytes_buf(raw, sizeof(raw));
    memcpy(out, "pcl-", 4);
    sodium_bin2base64(out + 4, 61, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static bool
is_down(const struct provcat *c, size_t i, int64_t now)
{
    return c->nodes[i].down_until_ms > now;
}

/* The node to try next: the leader when wanted and known, else the next
 * node in turn that is not marked down (or the one back soonest). */
static size_t
pick(struct provcat *c, bool want_leader, int64_t now)
{
    size_t best = c->cur % c->n_nodes;

    if (want_leader && c->leader >= 0 && !is_down(c, (size_t)c->leader, now)) {
        return (size_t)c->leader;
    }
    for (size_t k = 0; k < c->n_nodes; k++) {
        size_t i = (c->cur + k) % c->n_nodes;

        if (!is_down(c, i, now)) {
            c->cur = i;
            return i;
        }
        if (c->nodes[i].down_until_ms < c->nodes[best].down_until_ms) {
            best = i;
        }
    }
    c->cur = best;
    return best;
}

/* After a failure at `node`: forget it as leader, move on. */
static void
failed_at(struct provcat *c, size_t node, bool unreachable)
{
    if (c->leader == (long)node) {
        c->leader = -1;
    }
    if (unreachable) {
        c->nodes[node].down_until_ms = now_ms() + PCL_DOWN_MS;
    }
    if (c->cur == node) {
        c->cur = (node + 1) % c->n_nodes;
    }
}

/*
 * Learn the members' client URLs from the first configured endpoint that
 * answers /v1/status, so a redirect to one of them can be followed.
 */
static void
refresh_members(struct provcat *c, int64_t deadline)
{
    static const struct pcl_req st = { "GET", "/v1/status", NULL,
                                       0,     PCL_LOCAL,    PROVCAT_ANY_VERSION,
                                       NULL,  NULL,         NULL,
                                       NULL };
    int64_t now = now_ms();
    bool sent;

    for (size_t i = 0; i < c->n_configured; i++) {
        json_t *o;

        if (!c->nodes[i].configured || is_down(c, i, now)) {
            continue;
        }
        if (attempt(c, &st, i, NULL, false,
                    deadline < now + PCL_CONNECT_TIMEOUT_MS
                        ? deadline
                        : now + PCL_CONNECT_TIMEOUT_MS,
                    &sent) != CURLE_OK ||
            c->status != 200) {
            continue;
        }
        o = json_loadb((const char *)c->body.data, c->body.len, 0, NULL);
        c->answered = (long)i;
        pcl_learn_members(c, o);
        json_decref(o);
        return;
    }
}

void
pcl_learn_members(struct provcat *c, json_t *status)
{
    json_t *m;
    size_t k;

    if (c->answered < 0 || !c->nodes[c->answered].configured) {
        return;
    }
    json_array_foreach(json_object_get(status, "members"), k, m)
    {
        json_t *u = json_object_get(m, "client_url");
        char *origin;

        if (!json_is_string(u)) {
            continue;
        }
        origin = origin_of(json_string_value(u), NULL);
        if (origin != NULL && add_node(c, origin, false) != PROVCAT_OK) {
            pc_free(origin);
        }
    }
}

static int
backoff_ms(unsigned round)
{
    int64_t cap = PCL_BACKOFF_BASE_MS << (round < 6 ? round : 6);
    uint32_t r = randombytes_uniform(1000);

    if (cap > PCL_BACKOFF_CAP_MS) {
        cap = PCL_BACKOFF_CAP_MS;
    }
    /* "Equal jitter": half the step, plus up to the other half at random. */
    return (int)(cap / 2 + cap / 2 * (int64_t)r / 1000);
}

int
pcl_call(struct provcat *c, const struct pcl_req *r, const char *what)
{
    int64_t start = now_ms();
    int64_t deadline = c->timeout_ms > 0 ? start + c->timeout_ms : INT64_MAX;
    bool want_leader =
        (r->flags & PCL_WRITE) ||
        ((r->flags & PCL_READ) && (!c->stale || (r->flags & PCL_NO_STALE)));
    bool stale =
        (r->flags & PCL_READ) && c->stale && !(r->flags & PCL_NO_STALE);
    bool safe = !(r->flags & PCL_WRITE) || (r->flags & PCL_IDEM);
    char idem[65];
    const char *key = NULL;
    unsigned round = 0, fails = 0, redirects = 0;
    long fixed = -1;
    int last = PROVCAT_OK;

    pcl_reset(c);
    c->delivered = 0;
    c->sink_failed = false;
    if (r->origin != NULL) {
        char *o = origin_of(r->origin, NULL);

        fixed = o != NULL ? find_node(c, o) : -1;
        pc_free(o);
        if (fixed < 0) {
            return local_error(c, PROVCAT_EREDIRECT, what,
                               "'%s' is not an endpoint or member of this "
                               "client",
                               r->origin);
        }
    }
    if (r->flags & PCL_IDEM) {
        if (c->idem_next[0] != '\0') {
            memcpy(idem, c->idem_next, sizeof(idem));
            c->idem_next[0] = '\0';
        } else {
            new_idem_key(idem);
        }
        key = idem;
    }

    for (;;) {
        int64_t now = now_ms();
        size_t node;
        bool sent, unreachable = false;
        CURLcode cc;

        if (now >= deadline) {
            if (last != PROVCAT_OK) {
                /* The last retryable error, already recorded. */
                return last;
            }
            return local_error(c, PROVCAT_ETIMEOUT, what,
                               "no answer within %ld ms", c->timeout_ms);
        }
        node = fixed >= 0 ? (size_t)fixed : pick(c, want_leader, now);
        cc = attempt(c, r, node, key, stale, deadline, &sent);

        if (cc != CURLE_OK) {
            if (cc == CURLE_OUT_OF_MEMORY) {
                return local_error(c, PROVCAT_ENOMEM, what, "out of memory");
            }
            if (c->sink_failed) {
                return local_error(c, PROVCAT_EIO, what,
                                   "the sink refused the data after %llu "
                                   "bytes",
                                   (unsigned long long)c->delivered);
            }
            last = local_error(
                c,
                cc == CURLE_OPERATION_TIMEDOUT ? PROVCAT_ETIMEOUT
                                               : PROVCAT_ECONNECT,
                what, "%s: %s", c->nodes[node].origin, curl_easy_strerror(cc));
            if (sent && !safe) {
                return local_error(c, PROVCAT_EOUTCOMEUNKNOWN, what,
                                   "%s: %s after the request was sent; it "
                                   "may or may not have applied",
                                   c->nodes[node].origin,
                                   curl_easy_strerror(cc));
            }
            if (c->delivered > 0) {
                return last; /* a stream cannot be taken back */
            }
            unreachable = !sent;
            goto retry;
        }
        if (c->status >= 200 && c->status < 300) {
            c->answered = (long)node;
            if (r->flags & PCL_WRITE) {
                if (c->last_revision > c->min_revision) {
                    c->min_revision = c->last_revision;
                }
                c->leader = (long)node;
            } else if (want_leader && !stale && fixed < 0 &&
                       !(r->flags & PCL_LOCAL)) {
                c->leader = (long)node;
            }
            return PROVCAT_OK;
        }
        if (c->status == 307 && fixed < 0 && c->location != NULL) {
            char *o = origin_of(c->location, NULL);
            long to = o != NULL ? find_node(c, o) : -1;

            if (o != NULL && to < 0) {
                refresh_members(c, deadline);
                to = find_node(c, o);
            }
            if (to < 0) {
                last = local_error(c, PROVCAT_EREDIRECT, what,
                                   "redirect to '%s' refused: not an "
                                   "endpoint or member of this client",
                                   o != NULL ? o : c->location);
                pc_free(o);
                return last;
            }
            pc_free(o);
            c->leader = to;
            want_leader = true;
            /* The leader alone serves this read (an audited one). */
            stale = false;
            if (++redirects <= PCL_MAX_REDIRECTS) {
                continue;
            }
            last = answer_error(c, what);
            redirects = 0;
            c->leader = -1;
            goto retry;
        }
        last = answer_error(c, what);
        switch (last) {
        case PROVCAT_EUNAVAILABLE:
        case PROVCAT_ECLOCKSKEW:
        case PROVCAT_ENOSPACE:
        case PROVCAT_ENOTLEADER:
        case PROVCAT_EREMOVED:
            /* Nothing was done: try elsewhere. */
            break;
        case PROVCAT_EOUTCOMEUNKNOWN:
            if (!safe) {
                return last;
            }
            break;
        default:
            return last;
        }
    retry:
        if (fixed >= 0 || c->delivered > 0) {
            return last;
        }
        failed_at(c, node, unreachable);
        if (++fails >= c->n_nodes) {
            int64_t d = backoff_ms(round++), left = deadline - now_ms();

            sleep_ms(d < left ? d : left);
            fails = 0;
            redirects = 0;
        }
    }
}

int
pcl_send(struct provcat *c, const char *method, const char *path,
         const char *body, size_t body_len, unsigned flags, int64_t if_version,
         const char *what)
{
    struct pcl_req r = { 0 };

    r.method = method;
    r.path = path;
    r.body = body;
    r.body_len = body_len;
    r.flags = flags;
    r.if_version = if_version;
    return pcl_call(c, &r, what);
}

int
pcl_body_json(struct provcat *c, json_t **out, const char *what)
{
    json_error_t e;
    json_t *o = json_loadb((const char *)c->body.data, c->body.len, 0, &e);

    if (!json_is_object(o)) {
        json_decref(o);
        return local_error(c, PROVCAT_EPROTO, what,
                           "the answer is not a JSON object: %s", e.text);
    }
    *out = o;
    return PROVCAT_OK;
}

PROVCAT_API int
provcat_request(struct provcat *c, const char *method, const char *path,
                const char *body, unsigned flags, int *status, char **answer)
{
    struct pcl_req r = { 0 };
    bool write;
    int rc;

    pcl_reset(c);
    if (method == NULL || path == NULL || path[0] != '/' ||
        (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 &&
         strcmp(method, "PUT") != 0 && strcmp(method, "DELETE") != 0)) {
        return pcl_fail(c, PROVCAT_EINVAL,
                        "request: method GET, POST, PUT or DELETE and a path "
                        "starting with '/'");
    }
    write = strcmp(method, "GET") != 0;
    r.method = method;
    r.path = path;
    r.body = body;
    r.body_len = body != NULL ? strlen(body) : 0;
    r.if_version = PROVCAT_ANY_VERSION;
    if (write) {
        r.flags = PCL_WRITE;
        if (!(flags & PROVCAT_REQ_NO_IDEMPOTENCY) &&
            strcmp(method, "DELETE") != 0) {
            r.flags |= PCL_IDEM;
        }
    } else {
        r.flags = (flags & PROVCAT_REQ_ANY_NODE) ? PCL_LOCAL : PCL_READ;
    }
    rc = pcl_call(c, &r, "request");
    if (rc != PROVCAT_OK) {
        return rc;
    }
    if (answer != NULL) {
        *answer = pc_strndup((const char *)c->body.data, c->body.len);
        if (*answer == NULL) {
            return pcl_fail(c, PROVCAT_ENOMEM, "request: out of memory");
        }
    }
    if (status != NULL) {
        *status = c->status;
    }
    return PROVCAT_OK;
}

PROVCAT_API void
provcat_hex(char out[PROVCAT_HASH_HEX_LEN + 1],
            const uint8_t hash[PROVCAT_HASH_LEN])
{
    pc_hex(out, hash, PROVCAT_HASH_LEN);
}

PROVCAT_API bool
provcat_unhex(uint8_t hash[PROVCAT_HASH_LEN], const char *hex)
{
    return hex != NULL && strlen(hex) == PROVCAT_HASH_HEX_LEN &&
           pc_unhex(hash, PROVCAT_HASH_LEN, hex, PROVCAT_HASH_HEX_LEN);
}
