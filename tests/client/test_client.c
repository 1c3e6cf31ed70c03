/* SPDX-License-Identifier: MIT */
/*
 * libprovcat against a real 3-node cluster (tests/client/cluster.c): the
 * record calls and their errors, redirects followed to members and refused
 * to strangers, failover past dead endpoints within the time bound, proofs
 * verified and tampered ones refused, the trusted-root state file, and a
 * write loop while the leader is killed twice (every call succeeds exactly
 * once or returns an error; no history holds a value twice). Run by
 * tests/integration/test_client.py; argv[1] filters tests by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/provcat.h"
#include "tests/client/cluster.h"

#define FIELDS                                                    \
    "[{\"name\":\"name\",\"type\":\"string\",\"required\":true}," \
    "{\"name\":\"n\",\"type\":\"integer\",\"required\":false}]"

struct fixture {
    struct tcl t;
    char prov_token[128]; /* a provider of org "dept" */
};

static struct fixture *fx;

/* A client for `endpoints` acting with `token`. */
static struct provcat *
client(const char *endpoints, const char *token)
{
    char err[PROVCAT_ERRMSG_SIZE];
    struct provcat *c = NULL;

    if (provcat_new(endpoints, token, &c, err) != PROVCAT_OK) {
        fail_msg("provcat_new: %s", err);
    }
    provcat_set_timeout_ms(c, 15000);
    return c;
}

static void
check(struct provcat *c, int rc, const char *what)
{
    if (rc != PROVCAT_OK) {
        fail_msg("%s: %s (%s)", what, provcat_errmsg(c), provcat_errname(rc));
    }
}

/* A published entry `id` of org dept with the FIELDS schema. */
static void
publish(struct provcat *admin, struct provcat *prov, const char *id)
{
    char body[1024];

    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"title\":\"%s\",\"provider\":\"dept\","
             "\"fields\":" FIELDS ",\"share\":{\"class\":\"unconditional\"},"
             "\"open\":{\"class\":\"unconditional\"},\"update_frequency\":"
             "\"daily\",\"security_level\":2,\"scope\":\"province\"}",
             id, id);
    check(prov, provcat_entry_create(prov, body, NULL), "create entry");
    check(prov, provcat_entry_submit(prov, id, NULL), "submit");
    check(admin,
          provcat_entry_review(admin, id, "approve", "same schema on purpose",
                               PROVCAT_OVERRIDE_DUPLICATE, NULL),
          "review");
}

static int
group_setup(void **state)
{
    struct provcat *admin;
    char *json = NULL;
    const char *p;

    (void)state;
    signal(SIGPIPE, SIG_IGN);
    fx = calloc(1, sizeof(*fx));
    if (fx == NULL || tcl_start(&fx->t, 3) != 0) {
        return -1;
    }
    admin = client(fx->t.endpoints, fx->t.token);
    check(admin,
          provcat_org_create(admin,
                             "{\"id\":\"dept\",\"name\":\"Dept\",\"level\":"
                             "\"province\",\"kind\":\"agency\",\"parent\":"
                             "\"authority\"}",
                             NULL),
          "create org");
    check(admin,
          provcat_principal_create(admin,
                                   "{\"id\":\"prov\",\"org\":\"dept\","
                                   "\"roles\":[\"provider\"]}",
                                   &json),
          "create principal");
    p = strstr(json, "\"token\":\"");
    assert_non_null(p);
    sscanf(p + 9, "%127[^\"]", fx->prov_token);
    provcat_free(json);
    struct provcat *prov = client(fx->t.endpoints, fx->prov_token);
    publish(admin, prov, "e1");
    publish(admin, prov, "e2");
    publish(admin, prov, "e3");
    provcat_close(prov);
    provcat_close(admin);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    if (fx != NULL) {
        tcl_stop(&fx->t);
        free(fx);
    }
    return 0;
}

/* ---- calls and errors --------------------------------------------------- */

/* Put with each precondition, get by version and revision, retire,
 * correct, history: the answers and the errors the API documents. */
static void
test_client_records(void **state)
{
    struct provcat *c = client(fx->t.endpoints, fx->prov_token);
    struct provcat_write *w1, *w2, *w3;
    struct provcat_record *r;
    const struct provcat_record *h;
    const struct provcat_error *e;
    struct provcat_iter *it;
    int rc, n;

    (void)state;
    check(c,
          provcat_record_put(c, "e1", "k/1 é", "{\"name\":\"a\",\"n\":1}",
                             PROVCAT_CREATE_ONLY, &w1),
          "create");
    assert_int_equal(w1->version, 1);
    assert_string_equal(w1->op, "create");
    assert_string_equal(w1->key, "k/1 é");
    assert_string_equal(w1->prev_hash, "");
    assert_int_equal(strlen(w1->hash), 64);

    /* Create-only on a live key: 409 with the version found. */
    rc = provcat_record_put(c, "e1", "k/1 é", "{\"name\":\"b\"}",
                            PROVCAT_CREATE_ONLY, &w2);
    assert_int_equal(rc, PROVCAT_ECONFLICT);
    e = provcat_last_error(c);
    assert_int_equal(e->http_status, 409);
    assert_string_equal(e->server_code, "conflict");
    assert_int_equal(e->current_version, 1);
    assert_non_null(strstr(provcat_errmsg(c), "put record"));

    check(c,
          provcat_record_put(c, "e1", "k/1 é", "{\"n\":2,\"name\":\"b\"}", 1,
                             &w2),
          "update at version 1");
    assert_int_equal(w2->version, 2);
    assert_string_equal(w2->prev_hash, w1->hash);
    rc = provcat_record_put(c, "e1", "k/1 é", "{\"name\":\"c\"}", 1, &w3);
    assert_int_equal(rc, PROVCAT_ECONFLICT);
    assert_int_equal(provcat_last_error(c)->current_version, 2);

    /* Schema: 422 naming the field. */
    rc = provcat_record_put(c, "e1", "k2", "{\"n\":1}", PROVCAT_ANY_VERSION,
                            &w3);
    assert_int_equal(rc, PROVCAT_EINVALID);
    assert_string_equal(provcat_last_error(c)->field, "name");
    /* Not JSON: refused before anything is sent. */
    rc = provcat_record_put(c, "e1", "k2", "{\"name\":", PROVCAT_ANY_VERSION,
                            &w3);
    assert_int_equal(rc, PROVCAT_EINVAL);
    assert_int_equal(provcat_last_error(c)->http_status, 0);

    check(c, provcat_record_get(c, "e1", "k/1 é", 0, 0, &r), "get");
    assert_int_equal(r->version, 2);
    assert_string_equal(r->value, "{\"n\":2,\"name\":\"b\"}");
    assert_string_equal(r->hash, w2->hash);
    assert_string_equal(r->author, "prov");
    assert_string_equal(r->org, "dept");
    assert_int_equal(strlen(r->salt), 32);
    provcat_record_free(r);
    check(c, provcat_record_get(c, "e1", "k/1 é", 1, 0, &r), "get v1");
    assert_string_equal(r->value, "{\"n\":1,\"name\":\"a\"}");
    provcat_record_free(r);
    check(c, provcat_record_get(c, "e1", "k/1 é", 0, w1->revision, &r),
          "get at revision");
    assert_int_equal(r->version, 1);
    provcat_record_free(r);
    rc = provcat_record_get(c, "e1", "nope", 0, 0, &r);
    assert_int_equal(rc, PROVCAT_ENOTFOUND);
    rc = provcat_record_get(c, "nope", "k", 0, 0, &r);
    assert_int_equal(rc, PROVCAT_ENOTFOUND);

    check(c, provcat_record_retire(c, "e1", "k/1 é", "gone", 2, &w3), "retire");
    assert_string_equal(w3->op, "retire");
    assert_int_equal(w3->version, 3);
    provcat_write_free(w3);
    check(c, provcat_record_get(c, "e1", "k/1 é", 0, 0, &r), "get retired");
    assert_true(r->retired);
    assert_null(r->value);
    provcat_record_free(r);
    check(c,
          provcat_record_correct(c, "e1", "k/1 é", "{\"name\":\"fixed\"}",
                                 "typo", NULL, PROVCAT_ANY_VERSION, &w3),
          "correct");
    assert_string_equal(w3->op, "correct");
    provcat_write_free(w3);

    check(c, provcat_record_history(c, "e1", "k/1 é", &it), "history");
    n = 0;
    while ((rc = provcat_iter_record(it, &h)) == 1) {
        n++;
        assert_int_equal(h->version, (uint64_t)n);
        if (n == 2) {
            assert_string_equal(h->prev_hash, w1->hash);
        }
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 4);
    provcat_iter_free(it);
    provcat_write_free(w1);
    provcat_write_free(w2);

    /* A bad token is 401, never the public. */
    struct provcat *bad = client(fx->t.endpoints, "pct_not-a-token");
    rc = provcat_record_get(bad, "e1", "k2", 0, 0, &r);
    assert_int_equal(rc, PROVCAT_EUNAUTHORIZED);
    assert_int_equal(provcat_last_error(bad)->http_status, 401);
    provcat_close(bad);
    provcat_close(c);
}

/* Every error constant has a name and a message, and each API code maps
 * to its constant and back. */
static void
test_client_error_codes(void **state)
{
    static const struct {
        int rc;
        const char *code;
    } map[] = {
#define X(name, value, code, msg) { PROVCAT_##name, code },
        PROVCAT_ERR_MAP(X)
#undef X
    };

    (void)state;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        assert_true(map[i].rc < 0);
        assert_string_not_equal(provcat_errname(map[i].rc), "EUNKNOWN");
        assert_string_not_equal(provcat_strerror(map[i].rc), "unknown error");
        if (map[i].code != NULL) {
            assert_int_equal(provcat_code_from_string(map[i].code), map[i].rc);
        }
    }
    assert_int_equal(provcat_code_from_string("no_such_code"), PROVCAT_ESERVER);
    assert_string_equal(provcat_errname(0), "OK");
    assert_string_equal(provcat_errname(-999), "EUNKNOWN");
}

/* A batch of 1000 and a list over two pages; re-sent with skip_identical
 * it changes nothing; a failing record is named by key and index. */
static void
test_client_batch_and_list(void **state)
{
    struct provcat *c = client(fx->t.endpoints, fx->prov_token);
    struct provcat_batch_item items[1000];
    struct provcat_batch_result *res;
    const struct provcat_key *k;
    struct provcat_iter *it;
    static char keys[1500][16], vals[1500][48];
    char last[16] = "";
    int rc, n = 0;

    (void)state;
    for (int i = 0; i < 1500; i++) {
        snprintf(keys[i], sizeof(keys[i]), "b%05d", i);
        snprintf(vals[i], sizeof(vals[i]), "{\"name\":\"v%d\",\"n\":%d}", i, i);
    }
    for (int off = 0; off < 1500; off += 750) {
        for (int i = 0; i < 750; i++) {
            items[i] =
                (struct provcat_batch_item){ keys[off + i], vals[off + i],
                                             strlen(vals[off + i]),
                                             PROVCAT_CREATE_ONLY };
        }
        check(c, provcat_records_batch(c, "e2", items, 750, 0, &res), "batch");
        assert_int_equal(res->n_items, 750);
        assert_int_equal(res->n_created, 750);
        assert_string_equal(res->items[0].key, keys[off]);
        assert_int_equal(res->items[749].revision, res->revision);
        provcat_batch_result_free(res);
    }
    /* Again, skipping identical documents: nothing changes. */
    for (int i = 0; i < 1000; i++) {
        items[i] =
            (struct provcat_batch_item){ keys[i], vals[i], strlen(vals[i]),
                                         PROVCAT_ANY_VERSION };
    }
    check(c,
          provcat_records_batch(c, "e2", items, 1000, PROVCAT_SKIP_IDENTICAL,
                                &res),
          "batch again");
    assert_int_equal(res->n_unchanged, 1000);
    assert_int_equal(res->items[999].version, 1);
    provcat_batch_result_free(res);
    /* Without skipping, create-only fails on the first existing key. */
    items[3].if_version = PROVCAT_CREATE_ONLY;
    rc = provcat_records_batch(c, "e2", items, 10, 0, &res);
    assert_int_equal(rc, PROVCAT_ECONFLICT);
    assert_int_equal(provcat_last_error(c)->index, 3);
    assert_string_equal(provcat_last_error(c)->key, keys[3]);
    /* A value that is not JSON is refused before sending, by index. */
    items[5].value = "{\"name\":1,}";
    items[5].value_len = strlen(items[5].value);
    rc = provcat_records_batch(c, "e2", items, 10, 0, &res);
    assert_int_equal(rc, PROVCAT_EINVAL);
    assert_int_equal(provcat_last_error(c)->index, 5);

    check(c, provcat_records_list(c, "e2", "b", false, &it), "list");
    while ((rc = provcat_iter_key(it, &k)) == 1) {
        assert_true(strcmp(k->key, last) > 0);
        snprintf(last, sizeof(last), "%s", k->key);
        assert_int_equal(k->version, 1);
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 1500);
    assert_true(provcat_iter_revision(it) > 0);
    provcat_iter_free(it);
    provcat_close(c);
}

/* A caller's Idempotency-Key: the same write again is a replay with the
 * same answer; another body under that key is 422. */
static void
test_client_idempotency_key(void **state)
{
    struct provcat *c = client(fx->t.endpoints, fx->prov_token);
    struct provcat_write *a, *b;
    int rc;

    (void)state;
    assert_int_equal(provcat_set_idempotency_key(c, "bad key!"),
                     PROVCAT_EINVAL);
    check(c, provcat_set_idempotency_key(c, "mine-1"), "key");
    check(c,
          provcat_record_put(c, "e1", "idem", "{\"name\":\"x\"}",
                             PROVCAT_ANY_VERSION, &a),
          "put");
    assert_false(a->replayed);
    check(c, provcat_set_idempotency_key(c, "mine-1"), "key");
    check(c,
          provcat_record_put(c, "e1", "idem", "{\"name\":\"x\"}",
                             PROVCAT_ANY_VERSION, &b),
          "put again");
    assert_true(b->replayed);
    assert_int_equal(b->version, a->version);
    assert_string_equal(b->hash, a->hash);
    check(c, provcat_set_idempotency_key(c, "mine-1"), "key");
    rc = provcat_record_put(c, "e1", "idem", "{\"name\":\"y\"}",
                            PROVCAT_ANY_VERSION, &b);
    assert_int_equal(rc, PROVCAT_EIDEMPOTENCY);
    provcat_write_free(a);
    provcat_write_free(b);
    b = NULL;
    /* Without a key of the caller's, each write gets its own. */
    check(c,
          provcat_record_put(c, "e1", "idem", "{\"name\":\"x\"}",
                             PROVCAT_ANY_VERSION, &b),
          "put, new key");
    assert_false(b->replayed);
    provcat_write_free(b);
    provcat_close(c);
}

/* ---- redirects and failover ------------------------------------------- */

/* A client that knows one follower only follows its 307 to the leader,
 * learnt from the follower's member list, and then talks to the leader. */
static void
test_client_redirect_to_member(void **state)
{
    int lead = tcl_leader(&fx->t, 10000), f = (lead + 1) % fx->t.n;
    struct provcat *c = client(fx->t.nodes[f].url, fx->prov_token);
    struct provcat_write *w;
    size_t n;

    (void)state;
    assert_true(lead >= 0);
    assert_null(provcat_leader(c));
    check(c,
          provcat_record_put(c, "e1", "via-follower", "{\"name\":\"r\"}",
                             PROVCAT_ANY_VERSION, &w),
          "put through a follower");
    assert_non_null(provcat_leader(c));
    assert_string_equal(provcat_leader(c), fx->t.nodes[lead].url);
    /* The endpoint, and the members whose URL the ledger holds (every
     * node that led, at least the leader). */
    const char *const *o = provcat_origins(c, &n);
    assert_true(n >= 2);
    assert_string_equal(o[0], fx->t.nodes[f].url);
    provcat_write_free(w);
    provcat_close(c);
}

/* A listening socket on 127.0.0.1; its port in `*port`. */
static int
listener(int *port)
{
    struct sockaddr_in a = { 0 };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

struct redirector {
    int fd;
    int target_port;
    int served;
};

/* Answer every request with a 307 to 127.0.0.1:target_port, as a
 * compromised or misconfigured node could. */
static void *
redirector_run(void *arg)
{
    struct redirector *r = arg;

    for (;;) {
        char buf[8192], resp[256];
        int c = accept(r->fd, NULL, NULL);
        ssize_t got = 0, n;

        if (c < 0) {
            return NULL;
        }
        while (got < (ssize_t)sizeof(buf) - 1 &&
               (n = read(c, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0) {
            got += n;
            buf[got] = '\0';
            if (strstr(buf, "\r\n\r\n") != NULL) {
                break;
            }
        }
        snprintf(resp, sizeof(resp),
                 "HTTP/1.1 307 Temporary Redirect\r\nLocation: "
                 "http://127.0.0.1:%d/v1/whoami\r\nContent-Length: 0\r\n"
                 "Connection: close\r\n\r\n",
                 r->target_port);
        if (write(c, resp, strlen(resp)) < 0) {
            /* the client went away */
        }
        close(c);
        r->served++;
    }
}

/* A 307 to an origin that is neither an endpoint nor a member is refused:
 * the client never connects there, so the token stays home. */
static void
test_client_redirect_to_stranger_refused(void **state)
{
    struct redirector r = { 0 };
    int port, trap_port, trap = listener(&trap_port);
    struct pollfd pfd = { trap, POLLIN, 0 };
    char url[64];
    pthread_t th;
    char *json = NULL;
    int rc;

    (void)state;
    r.fd = listener(&port);
    r.target_port = trap_port;
    assert_int_equal(pthread_create(&th, NULL, redirector_run, &r), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    struct provcat *c = client(url, fx->prov_token);
    rc = provcat_whoami(c, &json);
    assert_int_equal(rc, PROVCAT_EREDIRECT);
    assert_non_null(strstr(provcat_errmsg(c), "refused"));
    assert_true(r.served >= 1);
    /* Nothing ever connected to the stranger. */
    assert_int_equal(poll(&pfd, 1, 100), 0);
    provcat_close(c);
    shutdown(r.fd, SHUT_RDWR);
    close(r.fd);
    pthread_join(th, NULL);
    close(trap);
}

/* Dead endpoints are skipped: calls succeed through the live ones, and a
 * client with only dead endpoints gives up within its time bound. */
static void
test_client_failover(void **state)
{
    int dead1, dead2, fd1 = listener(&dead1), fd2 = listener(&dead2);
    char eps[1024], dead[128];
    struct provcat_write *w;
    struct provcat_record *r;
    long long t0;
    int rc;

    (void)state;
    close(fd1); /* the ports are now closed: connections are refused */
    close(fd2);
    snprintf(eps, sizeof(eps), "http://127.0.0.1:%d,%s,127.0.0.1:%d", dead1,
             fx->t.endpoints, dead2);
    struct provcat *c = client(eps, fx->prov_token);
    for (int i = 0; i < 5; i++) {
        check(c,
              provcat_record_put(c, "e1", "fo", "{\"name\":\"f\"}",
                                 PROVCAT_ANY_VERSION, &w),
              "put past a dead endpoint");
        provcat_write_free(w);
    }
    provcat_set_stale_reads(c, true);
    check(c, provcat_record_get(c, "e1", "fo", 0, 0, &r), "stale read");
    assert_string_equal(r->value, "{\"name\":\"f\"}");
    provcat_record_free(r);
    provcat_close(c);

    snprintf(dead, sizeof(dead), "127.0.0.1:%d,127.0.0.1:%d", dead1, dead2);
    c = client(dead, fx->prov_token);
    provcat_set_timeout_ms(c, 700);
    t0 = tcl_now_ms();
    rc = provcat_record_put(c, "e1", "fo", "{\"name\":\"f\"}",
                            PROVCAT_ANY_VERSION, &w);
    assert_int_equal(rc, PROVCAT_ECONNECT);
    assert_true(tcl_now_ms() - t0 < 1500);
    provcat_close(c);
}

/* ---- proofs -------------------------------------------------------------- */

/* Inclusion and consistency proofs from the server verify; each kind of
 * tampering is refused. */
static void
test_client_proofs(void **state)
{
    struct provcat *c = client(fx->t.endpoints, fx->prov_token);
    struct provcat_consistency *cp;
    struct provcat_write *w;
    struct provcat_proof *p;
    struct provcat_root root, old;
    uint8_t leaf[PROVCAT_HASH_LEN], bad[PROVCAT_HASH_LEN];

    (void)state;
    check(c,
          provcat_record_put(c, "e1", "proved", "{\"name\":\"p\"}",
                             PROVCAT_ANY_VERSION, &w),
          "put");
    check(c, provcat_ledger_root(c, 0, &root), "root");
    assert_true(root.revision >= w->revision);
    check(c, provcat_ledger_proof(c, w->revision, root.revision, &p), "proof");
    assert_true(provcat_unhex(leaf, w->hash));
    assert_memory_equal(p->leaf_hash, leaf, PROVCAT_HASH_LEN);
#define INCL(l, i, n, path, len, r)   \
    provcat_verify_inclusion(l, i, n, \
                             (const uint8_t(*)[PROVCAT_HASH_LEN])path, len, r)
    assert_int_equal(INCL(leaf, w->revision - 1, root.revision, p->path,
                          p->n_path, root.root),
                     PROVCAT_OK);
    /* Another leaf, index, size or root; a path cut short or altered. */
    memcpy(bad, leaf, sizeof(bad));
    bad[7] ^= 1;
    assert_int_equal(INCL(bad, w->revision - 1, root.revision, p->path,
                          p->n_path, root.root),
                     PROVCAT_EVERIFY);
    assert_int_equal(
        INCL(leaf, w->revision, root.revision, p->path, p->n_path, root.root),
        PROVCAT_EVERIFY);
    assert_int_equal(INCL(leaf, w->revision - 1, root.revision + 1, p->path,
                          p->n_path, root.root),
                     PROVCAT_EVERIFY);
    memcpy(bad, root.root, sizeof(bad));
    bad[0] ^= 0x80;
    assert_int_equal(
        INCL(leaf, w->revision - 1, root.revision, p->path, p->n_path, bad),
        PROVCAT_EVERIFY);
    assert_true(p->n_path > 0);
    assert_int_equal(INCL(leaf, w->revision - 1, root.revision, p->path,
                          p->n_path - 1, root.root),
                     PROVCAT_EVERIFY);
    p->path[p->n_path - 1][31] ^= 1;
    assert_int_equal(INCL(leaf, w->revision - 1, root.revision, p->path,
                          p->n_path, root.root),
                     PROVCAT_EVERIFY);
    provcat_free(p);

    /* Consistency from an earlier size to now. */
    check(c, provcat_ledger_root(c, w->revision - 1, &old), "old root");
    check(c, provcat_ledger_consistency(c, old.revision, root.revision, &cp),
          "consistency");
#define CONS(m, n, a, b, path, len)        \
    provcat_verify_consistency(m, n, a, b, \
                               (const uint8_t(*)[PROVCAT_HASH_LEN])path, len)
    assert_int_equal(CONS(old.revision, root.revision, old.root, root.root,
                          cp->path, cp->n_path),
                     PROVCAT_OK);
    assert_int_equal(CONS(old.revision, root.revision, root.root, root.root,
                          cp->path, cp->n_path),
                     PROVCAT_EVERIFY);
    assert_int_equal(CONS(old.revision - 1, root.revision, old.root, root.root,
                          cp->path, cp->n_path),
                     PROVCAT_EVERIFY);
    if (cp->n_path > 0) {
        cp->path[0][0] ^= 1;
        assert_int_equal(CONS(old.revision, root.revision, old.root, root.root,
                              cp->path, cp->n_path),
                         PROVCAT_EVERIFY);
    }
    provcat_free(cp);
    provcat_write_free(w);
    provcat_close(c);
}

/* The state file: a verified record read keeps the trusted root there; a
 * state whose root the server's history does not extend is refused and
 * left as it was. */
static void
test_client_state_file(void **state)
{
    struct provcat *c = client(fx->t.endpoints, fx->prov_token);
    char path[400], line[200], line2[200];
    struct provcat_root trusted, now;
    struct provcat_write *w;
    struct provcat_record *r;
    FILE *f;
    int rc;

    (void)state;
    snprintf(path, sizeof(path), "%s/state", fx->t.dir);
    check(c, provcat_set_state_file(c, path), "state file");
    assert_int_equal(provcat_trusted_root(c, &trusted), PROVCAT_ENOTFOUND);
    check(c,
          provcat_record_put(c, "e3", "v", "{\"name\":\"s\"}",
                             PROVCAT_ANY_VERSION, &w),
          "put");
    check(c, provcat_record_get(c, "e3", "v", 0, 0, &r), "get");
    check(c, provcat_record_verify(c, r), "verify");
    check(c, provcat_trusted_root(c, &trusted), "trusted");
    assert_true(trusted.revision >= r->revision);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_int_equal(strtoull(line, NULL, 10), trusted.revision);

    /* A record whose document does not hash to its content_hash. */
    r->value[strlen(r->value) - 2] = 't';
    assert_int_equal(provcat_record_verify(c, r), PROVCAT_EVERIFY);
    provcat_record_free(r);
    provcat_write_free(w);
    provcat_close(c);

    /* A later client with the file moves it forward along the history. */
    c = client(fx->t.endpoints, fx->prov_token);
    check(c, provcat_set_state_file(c, path), "state file again");
    check(c, provcat_trusted_root(c, &now), "loaded");
    assert_int_equal(now.revision, trusted.revision);
    check(c, provcat_ledger_sync(c, &now), "sync");
    assert_true(now.revision >= trusted.revision);
    provcat_close(c);

    /* A state naming another history: refused, the file untouched. */
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%llu %s\n", (unsigned long long)now.revision,
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    fclose(f);
    c = client(fx->t.endpoints, fx->prov_token);
    check(c, provcat_set_state_file(c, path), "forged state");
    rc = provcat_ledger_sync(c, NULL);
    assert_int_equal(rc, PROVCAT_EVERIFY);
    assert_non_null(strstr(provcat_errmsg(c), "does not extend"));
    f = fopen(path, "r");
    assert_non_null(fgets(line2, sizeof(line2), f));
    fclose(f);
    assert_non_null(strstr(line2, "00112233"));
    provcat_close(c);

    /* A state ahead of the server (a rollback): refused too. */
    f = fopen(path, "w");
    fprintf(f, "%llu %s\n", (unsigned long long)now.revision + 1000000,
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    fclose(f);
    c = client(fx->t.endpoints, fx->prov_token);
    check(c, provcat_set_state_file(c, path), "state ahead");
    assert_int_equal(provcat_ledger_sync(c, NULL), PROVCAT_EVERIFY);
    provcat_close(c);
    /* A malformed file is an error, not a fresh start. */
    f = fopen(path, "w");
    fprintf(f, "garbage\n");
    fclose(f);
    c = client(fx->t.endpoints, fx->prov_token);
    assert_int_equal(provcat_set_state_file(c, path), PROVCAT_EVERIFY);
    provcat_close(c);
}

/* ---- the leader dies during a write loop ------------------------------- */

#define LOOP_KEYS 4
#define MAX_CALLS 20000

struct call {
    bool batch;
    int rc;
    uint64_t version[3]; /* per key written: PUT one, batch three */
};

struct killer {
    struct tcl *t;
    volatile bool done;
    int kills;
};

/* Kill the leader (SIGKILL) twice while the loop writes, restarting each
 * victim once a new leader serves. */
static void *
killer_run(void *arg)
{
    struct killer *k = arg;

    for (int round = 0; round < 2; round++) {
        int lead;

        tcl_sleep_ms(800);
        lead = tcl_leader(k->t, 10000);
        if (lead < 0) {
            break;
        }
        tcl_node_kill(k->t, lead, SIGKILL);
        k->kills++;
        tcl_leader(k->t, 15000);
        tcl_sleep_ms(300);
        tcl_node_start(k->t, lead);
    }
    tcl_sleep_ms(800);
    k->done = true;
    return NULL;
}

static int
value_n(const char *doc)
{
    const char *p = doc != NULL ? strstr(doc, "\"n\":") : NULL;

    return p != NULL ? atoi(p + 4) : -1;
}

/* Each key's history: the n of every version, checked for repeats. */
static void
history_ns(struct provcat *c, const char *key, int *by_version, int cap,
           int *count)
{
    const struct provcat_record *h;
    struct provcat_iter *it;
    static char seen[MAX_CALLS];
    int rc;

    memset(seen, 0, sizeof(seen));
    check(c, provcat_record_history(c, "e3", key, &it), "history");
    *count = 0;
    while ((rc = provcat_iter_record(it, &h)) == 1) {
        int n = value_n(h->value);

        assert_true(n >= 0 && n < MAX_CALLS);
        if (seen[n]) {
            fail_msg("key %s: call %d applied twice (version %llu)", key, n,
                     (unsigned long long)h->version);
        }
        seen[n] = 1;
        assert_true(h->version <= (uint64_t)cap);
        by_version[h->version] = n;
        (*count)++;
    }
    assert_int_equal(rc, 0);
    provcat_iter_free(it);
}

/* While the leader is killed twice, a loop of PUTs and batches: every call
 * that succeeded is in its key's history exactly once, at the version it
 * returned; no history holds any call twice. */
static void
test_client_leader_kill_write_loop(void **state)
{
    static struct call calls[MAX_CALLS];
    static int by_version[MAX_CALLS + 2];
    struct provcat *c = client(fx->t.endpoints, fx->prov_token);
    struct killer k = { &fx->t, false, 0 };
    long long t0 = tcl_now_ms();
    int n = 0, errors = 0, ok = 0;
    char keys[LOOP_KEYS + 3][8], doc[64];
    pthread_t th;

    (void)state;
    provcat_set_timeout_ms(c, 20000);
    for (int i = 0; i < LOOP_KEYS; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(keys[LOOP_KEYS + i], sizeof(keys[0]), "b%d", i);
    }
    assert_int_equal(pthread_create(&th, NULL, killer_run, &k), 0);
    while (n < MAX_CALLS && (!k.done || n < 50) && tcl_now_ms() - t0 < 60000) {
        struct call *cl = &calls[n];

        snprintf(doc, sizeof(doc), "{\"name\":\"w\",\"n\":%d}", n);
        cl->batch = n % 5 == 4;
        if (cl->batch) {
            struct provcat_batch_item it[3];
            struct provcat_batch_result *res;

            for (int j = 0; j < 3; j++) {
                it[j] = (struct provcat_batch_item){ keys[LOOP_KEYS + j], doc,
                                                     strlen(doc),
                                                     PROVCAT_ANY_VERSION };
            }
            cl->rc = provcat_records_batch(c, "e3", it, 3, 0, &res);
            if (cl->rc == PROVCAT_OK) {
                for (int j = 0; j < 3; j++) {
                    cl->version[j] = res->items[j].version;
                }
                provcat_batch_result_free(res);
            }
        } else {
            struct provcat_write *w;

            cl->rc = provcat_record_put(c, "e3", keys[n % LOOP_KEYS], doc,
                                        PROVCAT_ANY_VERSION, &w);
            if (cl->rc == PROVCAT_OK) {
                cl->version[0] = w->version;
                provcat_write_free(w);
            }
        }
        if (cl->rc != PROVCAT_OK) {
            errors++;
            fprintf(stderr, "call %d: %s\n", n, provcat_errmsg(c));
            /* Only "could not finish" errors, never a wrong answer. */
            assert_true(cl->rc == PROVCAT_ETIMEOUT ||
                        cl->rc == PROVCAT_EUNAVAILABLE ||
                        cl->rc == PROVCAT_ECONNECT ||
                        cl->rc == PROVCAT_EOUTCOMEUNKNOWN);
        } else {
            ok++;
        }
        n++;
    }
    pthread_join(th, NULL);
    assert_int_equal(k.kills, 2);
    fprintf(stderr, "leader kill loop: %d calls, %d ok, %d errors, %.1f s\n", n,
            ok, errors, (double)(tcl_now_ms() - t0) / 1000);
    assert_true(tcl_leader(&fx->t, 15000) >= 0);
    assert_true(tcl_converged(&fx->t, 20000));

    for (int kk = 0; kk < LOOP_KEYS + 3; kk++) {
        int count;

        memset(by_version, -1, sizeof(by_version));
        history_ns(c, keys[kk], by_version, MAX_CALLS + 1, &count);
        for (int i = 0; i < n; i++) {
            bool mine = kk < LOOP_KEYS ? !calls[i].batch && i % LOOP_KEYS == kk
                                       : calls[i].batch;
            uint64_t v = kk < LOOP_KEYS ? calls[i].version[0]
                                        : calls[i].version[kk - LOOP_KEYS];

            if (mine && calls[i].rc == PROVCAT_OK) {
                /* Succeeded: in the history at the version it returned. */
                assert_true(v >= 1 && v <= (uint64_t)count);
                if (by_version[v] != i) {
                    fail_msg("key %s: call %d returned version %llu, which "
                             "holds call %d",
                             keys[kk], i, (unsigned long long)v, by_version[v]);
                }
            }
        }
    }
    provcat_close(c);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_error_codes),
        cmocka_unit_test(test_client_records),
        cmocka_unit_test(test_client_batch_and_list),
        cmocka_unit_test(test_client_idempotency_key),
        cmocka_unit_test(test_client_redirect_to_member),
        cmocka_unit_test(test_client_redirect_to_stranger_refused),
        cmocka_unit_test(test_client_failover),
        cmocka_unit_test(test_client_proofs),
        cmocka_unit_test(test_client_state_file),
        cmocka_unit_test(test_client_leader_kill_write_loop),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
