/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for node/config: defaults, every flag from the command line,
 * the environment and a config file, their precedence, and the exact
 * one-line message of every usage and configuration error.
 */
#include "tests/lib/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "node/config.h"

#define MAX_ARGS 64

/* The four required flags with valid values. */
#define BASE                                                                 \
    "--id", "1", "--data-dir", "/d", "--peer", "127.0.0.1:7001", "--client", \
        "127.0.0.1:8001"

/* Parse with argv = "provcat-node" followed by the NULL-terminated `args`. */
static int
parse(struct cfg *c, char *msg, char **envp, const char *const *args)
{
    char *argv[MAX_ARGS];
    int argc = 0;

    argv[argc++] = "provcat-node";
    for (; *args != NULL; args++) {
        assert_true(argc < MAX_ARGS - 1);
        argv[argc++] = (char *)*args;
    }
    argv[argc] = NULL;
    return cfg_parse(c, argc, argv, envp, msg);
}

#define ARGS(...)         \
    (const char *const[]) \
    {                     \
        __VA_ARGS__, NULL \
    }
#define NOARGS            \
    (const char *const[]) \
    {                     \
        NULL              \
    }

/*
 * Parse must fail with PC_EINVAL and print exactly `want` (after main's
 * "provcat-node: " prefix), leaving `*c` as it was (out-parameters are
 * written only on success).
 */
static void
expect_err(char **envp, const char *want, const char *const *args)
{
    struct cfg c, pattern;
    char msg[PC_ERRMSG_SIZE] = "";

    char line[PC_ERRMSG_SIZE + 16];

    memset(&c, 0xa5, sizeof(c));
    memset(&pattern, 0xa5, sizeof(pattern));
    int rc = parse(&c, msg, envp, args);
    /* The line node/main.c prints on stderr. */
    snprintf(line, sizeof(line), "provcat-node: %s", msg);
    if (rc != PC_EINVAL || strcmp(line, want) != 0) {
        print_error("want: %s\n got: %s (%s)\n", want, line, pc_errname(rc));
    }
    assert_int_equal(rc, PC_EINVAL);
    assert_string_equal(line, want);
    assert_memory_equal(&c, &pattern, sizeof(c));
}

/* Write `text` (`len` bytes) to a new temporary file named in `path`. */
static void
write_file_n(char path[64], const char *text, size_t len)
{
    strcpy(path, "/tmp/pc-test-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static void
write_file(char path[64], const char *text)
{
    write_file_n(path, text, strlen(text));
}

/* Every value flag with a value other than its default. */
static const struct {
    const char *name;
    const char *value;
} all_flags[] = {
    { "id", "7" },
    { "data-dir", "/var/lib/pc" },
    { "peer", "10.0.0.7:7007" },
    { "client", "0.0.0.0:8007" },
    { "advertise-client-url", "http://node7.example:8007" },
    { "cluster", "7=10.0.0.7:7007,8=10.0.0.8:7008" },
    { "initial-cluster-state", "new" },
    { "admin-token-file", "/etc/pc/token" },
    { "snapshot-threshold", "1000" },
    { "snapshot-trailing", "0" },
    { "max-inflight", "64" },
    { "segment-size", "8M" },
    { "election-timeout-ms", "3000" },
    { "heartbeat-timeout-ms", "300" },
    { "max-body-bytes", "512K" },
    { "max-connections", "10" },
    { "idle-timeout-ms", "5000" },
    { "request-timeout-ms", "7000" },
    { "rate-limit", "5" },
    { "trusted-proxy", "10.0.0.0/8,192.168.1.7" },
    { "log-level", "debug" },
    { "log-format", "json" },
    { "log-file", "/var/log/pc.log" },
    { "security-log-max-bytes", "1M" },
    { "security-log-keep", "0" },
    { "security-log-rate", "7" },
    { "holidays", "/etc/pc/holidays.json" },
    { "restore", "/backup/x.pcb" },
    { "exit-when-removed", "false" },
};
#define N_ALL (sizeof(all_flags) / sizeof(all_flags[0]))

/* Check that `c` holds exactly the values of all_flags. */
static void
check_all_flags(const struct cfg *c)
{
    assert_int_equal(c->id, 7);
    assert_string_equal(c->data_dir, "/var/lib/pc");
    assert_string_equal(c->peer, "10.0.0.7:7007");
    assert_string_equal(c->peer_host, "10.0.0.7");
    assert_int_equal(c->peer_port, 7007);
    assert_string_equal(c->client, "0.0.0.0:8007");
    assert_string_equal(c->client_host, "0.0.0.0");
    assert_int_equal(c->client_port, 8007);
    assert_string_equal(c->advertise_client_url, "http://node7.example:8007");
    assert_int_equal(c->n_cluster, 2);
    assert_int_equal(c->cluster[0].id, 7);
    assert_string_equal(c->cluster[0].addr, "10.0.0.7:7007");
    assert_int_equal(c->cluster[1].id, 8);
    assert_string_equal(c->cluster[1].addr, "10.0.0.8:7008");
    assert_int_equal(c->initial_cluster_state, CFG_CLUSTER_NEW);
    assert_string_equal(c->admin_token_file, "/etc/pc/token");
    assert_int_equal(c->snapshot_threshold, 1000);
    assert_int_equal(c->snapshot_trailing, 0);
    assert_int_equal(c->max_inflight, 64);
    assert_true(c->segment_size == 8u * 1024 * 1024);
    assert_int_equal(c->election_timeout_ms, 3000);
    assert_int_equal(c->heartbeat_timeout_ms, 300);
    assert_true(c->max_body_bytes == 512u * 1024);
    assert_int_equal(c->max_connections, 10);
    assert_int_equal(c->idle_timeout_ms, 5000);
    assert_int_equal(c->request_timeout_ms, 7000);
    assert_int_equal(c->rate_limit, 5);
    assert_string_equal(c->trusted_proxy, "10.0.0.0/8,192.168.1.7");
    assert_int_equal(c->n_trusted, 2);
    assert_int_equal(c->trusted[0].bits, 8);
    assert_int_equal(c->trusted[1].bits, 32);
    assert_int_equal(c->log_level, CFG_LOG_DEBUG);
    assert_int_equal(c->log_format, CFG_LOG_JSON);
    assert_string_equal(c->log_file, "/var/log/pc.log");
    assert_true(c->security_log_max_bytes == 1024 * 1024);
    assert_int_equal(c->security_log_keep, 0);
    assert_int_equal(c->security_log_rate, 7);
    assert_string_equal(c->holidays, "/etc/pc/holidays.json");
    assert_string_equal(c->restore, "/backup/x.pcb");
    assert_false(c->exit_when_removed);
    assert_false(c->help);
    assert_false(c->version);
}

/* Only the required flags: every other setting takes its documented default. */
static void
test_config_defaults(void **state)
{
    (void)state;
    struct cfg c;
    char msg[PC_ERRMSG_SIZE];

    assert_int_equal(parse(&c, msg, NULL, ARGS(BASE)), PC_OK);
    assert_int_equal(c.id, 1);
    assert_string_equal(c.data_dir, "/d");
    assert_string_equal(c.peer, "127.0.0.1:7001");
    assert_string_equal(c.peer_host, "127.0.0.1");
    assert_int_equal(c.peer_port, 7001);
    assert_string_equal(c.client, "127.0.0.1:8001");
    assert_int_equal(c.client_port, 8001);
    assert_string_equal(c.advertise_client_url, "http://127.0.0.1:8001");
    assert_null(c.cluster);
    assert_int_equal(c.n_cluster, 0);
    assert_int_equal(c.initial_cluster_state, CFG_CLUSTER_EXISTING);
    assert_null(c.admin_token_file);
    assert_int_equal(c.snapshot_threshold, 65536);
    assert_int_equal(c.snapshot_trailing, 8192);
    assert_int_equal(c.max_inflight, 1024);
    assert_true(c.segment_size == 64u * 1024 * 1024);
    assert_int_equal(c.election_timeout_ms, 1000);
    assert_int_equal(c.heartbeat_timeout_ms, 100);
    assert_true(c.max_body_bytes == 1024 * 1024);
    assert_int_equal(c.max_connections, 1024);
    assert_int_equal(c.idle_timeout_ms, 60000);
    assert_int_equal(c.request_timeout_ms, 30000);
    assert_int_equal(c.rate_limit, 20);
    assert_int_equal(c.log_level, CFG_LOG_INFO);
    assert_null(c.log_file);
    assert_true(c.security_log_max_bytes == 16 * 1024 * 1024);
    assert_int_equal(c.security_log_keep, 4);
    assert_int_equal(c.security_log_rate, 30);
    assert_null(c.holidays);
    assert_null(c.restore);
    assert_true(c.exit_when_removed);
    assert_null(c.config);
    assert_false(c.help);
    assert_false(c.version);
    cfg_release(&c);
    assert_null(c.data_dir);
    cfg_release(NULL);
}

/* Every flag is read from the command line, as --name VALUE. */
static void
test_config_all_flags_from_argv(void **state)
{
    (void)state;
    const char *args[2 * N_ALL + 1];
    char buf[N_ALL][128];
    struct cfg c;
    char msg[PC_ERRMSG_SIZE];

    for (size_t i = 0; i < N_ALL; i++) {
        snprintf(buf[i], sizeof(buf[i]), "--%s", all_flags[i].name);
        args[2 * i] = buf[i];
        args[2 * i + 1] = all_flags[i].value;
    }
    args[2 * N_ALL] = NULL;
    assert_int_equal(parse(&c, msg, NULL, args), PC_OK);
    check_all_flags(&c);
    cfg_release(&c);
}

/* --name=VALUE is the same as --name VALUE, and a value may start with '-'. */
static void
test_config_equals_form(void **state)
{
    (void)state;
    struct cfg c;
    char msg[PC_ERRMSG_SIZE];

    assert_int_equal(parse(&c, msg, NULL,
                           ARGS("--id=9", "--data-dir", "-odd-dir", "--peer",
                                "127.0.0.1:7001", "--client=127.0.0.1:8001",
                                "--log-level=warn")),
                     PC_OK);
    assert_int_equal(c.id, 9);
    assert_string_equal(c.data_dir, "-odd-dir");
    assert_int_equal(c.log_level, CFG_LOG_WARN);
    cfg_release(&c);
}

/* Every flag is read from PROVCAT_<NAME>, dashes as underscores. */
static void
test_config_all_flags_from_env(void **state)
{
    (void)state;
    char buf[N_ALL][128];
    char *envp[N_ALL + 3];
    struct cfg c;
    char msg[PC_ERRMSG_SIZE];

    for (size_t i = 0; i < N_ALL; i++) {
        int n = snprintf(buf[i], sizeof(buf[i]), "PROVCAT_");
        for (const char *p = all_flags[i].name; *p != '\0'; p++) {
            buf[i][n++] = *p == '-' ? '_' : (char)(*p - 'a' + 'A');
        }
        snprintf(buf[i] + n, sizeof(buf[i]) - (size_t)n, "=%s",
                 all_flags[i].value);
        envp[i] = buf[i];
    }
    /* Other PROVCAT_ variables belong to the CLI and are ignored. */
    envp[N_ALL] = "PROVCAT_URL=http://elsewhere:1";
    envp[N_ALL + 1] = "HOME=/root";
    envp[N_ALL + 2] = NULL;
    assert_string_equal(envp[0], "PROVCAT_ID=7");
    assert_string_equal(envp[1], "PROVCAT_DATA_DIR=/var/lib/pc");
    assert_int_equal(parse(&c, msg, envp, NOARGS), PC_OK);
    check_all_flags(&c);
    cfg_release(&c);
}

/* Every flag is read from --config FILE as "key = value" lines. */
static void
test_config_all_flags_from_file(void **state)
{
    (void)state;
    char text[4096] = "# provcat-node settings\n\n";
    char path[64];
    struct cfg c;
    char msg[PC_ERRMSG_SIZE];

    for (size_t i = 0; i < N_ALL; i++) {
        size_t n = strlen(text);
        /* Vary the spacing and line ends the parser must accept. */
        snprintf(text + n, sizeof(text) - n,
                 i % 3 == 0   ? "%s = %s\n"
                 : i % 3 == 1 ? "  %s=%s  \r\n"
                              : "\t%s\t= %s\n    # comment\n",
                 all_flags[i].name, all_flags[i].value);
    }
    /* No final newline after the last line. */
    strcat(text, "   \n# end");
    write_file(path, text);
    assert_int_equal(parse(&c, msg, NULL, ARGS("--config", path)), PC_OK);
    check_all_flags(&c);
    assert_string_equal(c.config, path);
    cfg_release(&c);
    unlink(path);
}

/* Command line beats environment beats file beats default, per flag. */
static void
test_config_precedence(void **state)
{
    (void)state;
    char path[64], cfgenv[128];
    struct cfg c;
    char msg[PC_ERRMSG_SIZE];

    write_file(path, "id = 3\n"
                     "data-dir = /from-file\n"
                     "peer = 127.0.0.1:7001\n"
                     "client = 127.0.0.1:8001\n"
                     "log-level = debug\n"
                     "rate-limit = 33\n");
    char *env[] = { "PROVCAT_ID=2", "PROVCAT_LOG_LEVEL=warn", NULL };

    assert_int_equal(parse(&c, msg, env, ARGS("--config", path, "--id", "1")),
                     PC_OK);
    assert_int_equal(c.id, 1);                     /* argv */
    assert_int_equal(c.log_level, CFG_LOG_WARN);   /* env */
    assert_string_equal(c.data_dir, "/from-file"); /* file */
    assert_int_equal(c.rate_limit, 33);            /* file */
    assert_int_equal(c.max_connections, 1024);     /* default */
    cfg_release(&c);

    assert_int_equal(parse(&c, msg, env, ARGS("--config", path)), PC_OK);
    assert_int_equal(c.id, 2);
    cfg_release(&c);

    assert_int_equal(parse(&c, msg, NULL, ARGS("--config", path)), PC_OK);
    assert_int_equal(c.id, 3);
    assert_int_equal(c.log_level, CFG_LOG_DEBUG);
    cfg_release(&c);

    /* PROVCAT_CONFIG names the file when --config does not. */
    snprintf(cfgenv, sizeof(cfgenv), "PROVCAT_CONFIG=%s", path);
    char *env2[] = { cfgenv, "PROVCAT_RATE_LIMIT=44", NULL };
    assert_int_equal(parse(&c, msg, env2, NOARGS), PC_OK);
    assert_int_equal(c.id, 3);
    assert_int_equal(c.rate_limit, 44);
    assert_string_equal(c.config, path);
    cfg_release(&c);

    /* --config wins over PROVCAT_CONFIG. */
    char *env3[] = { "PROVCAT_CONFIG=/nonexistent/x.conf", NULL };
    assert_int_equal(parse(&c, msg, env3, ARGS("--config", path)), PC_OK);
    assert_string_equal(c.config, path);
    cfg_release(&c);
    unlink(path);
}

/* An empty environment variable counts as unset. */
static void
test_config_empty_env_is_unset(void **state)
{
    (void)state;
    struct cfg c;
    char msg[PC_ERRMSG_SIZE];
    char *env[] = { "PROVCAT_ID=", "PROVCAT_LOG_LEVEL=", NULL };

    assert_int_equal(parse(&c, msg, env, ARGS(BASE)), PC_OK);
    assert_int_equal(c.id, 1);
    assert_int_equal(c.log_level, CFG_LOG_INFO);
    cfg_release(&c);
    char *env2[] = { "PROVCAT_DATA_DIR=", NULL };
    expect_err(env2, "provcat-node: --data-dir is required",
               ARGS("--id", "1", "--peer", "127.0.0.1:7001", "--client",
                    "127.0.0.1:8001"));
}

/* --help, -h and --version win over bad flags; the environment cannot set them.
 */
static void
test_config_help_and_version(void **state)
{
    (void)state;
    struct cfg c;
    char msg[PC_ERRMSG_SIZE];

    assert_int_equal(parse(&c, msg, NULL, ARGS("--help")), PC_OK);
    assert_true(c.help);
    assert_false(c.version);
    cfg_release(&c);
    assert_int_equal(parse(&c, msg, NULL, ARGS("--bogus", "-h", "--id", "x")),
                     PC_OK);
    assert_true(c.help);
    assert_null(c.data_dir);
    cfg_release(&c);
    assert_int_equal(parse(&c, msg, NULL, ARGS("--version")), PC_OK);
    assert_true(c.version);
    assert_false(c.help);
    cfg_release(&c);
    /* A value equal to "-h" is a value, not --help. */
    assert_int_equal(parse(&c, msg, NULL, ARGS(BASE, "--holidays", "-h")),
                     PC_OK);
    assert_false(c.help);
    assert_string_equal(c.holidays, "-h");
    cfg_release(&c);
    char *env[] = { "PROVCAT_HELP=1", "PROVCAT_VERSION=1", NULL };
    expect_err(env, "provcat-node: --id is required", NOARGS);
    expect_err(NULL, "provcat-node: --help takes no value",
               ARGS(BASE, "--help=yes"));
}

/* Sizes take K, M and G suffixes in powers of 1024, upper or lower case. */
static void
test_config_size_suffixes(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        uint64_t want;
    } cases[] = {
        { "64M", 67108864 },  { "64m", 67108864 },    { "1G", 1073741824 },
        { "1024K", 1048576 }, { "2097152", 2097152 }, { "3k", 3072 },
    };
    struct cfg c;
    char msg[PC_ERRMSG_SIZE];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *flag =
            cases[i].want >= 1048576 ? "--segment-size" : "--max-body-bytes";
        assert_int_equal(parse(&c, msg, NULL, ARGS(BASE, flag, cases[i].in)),
                         PC_OK);
        uint64_t got = flag[2] == 's' ? c.segment_size : c.max_body_bytes;
        assert_true(got == cases[i].want);
        cfg_release(&c);
    }
    assert_int_equal(parse(&c, msg, NULL, ARGS(BASE, "--max-body-bytes", "1G")),
                     PC_OK);
    assert_true(c.max_body_bytes == 1073741824);
    cfg_release(&c);
}

/* Flag syntax errors: unknown, missing value, twice, positional arguments. */
static void
test_config_usage_errors(void **state)
{
    (void)state;
    expect_err(NULL, "provcat-node: unknown flag \"--bogus\" (see --help)",
               ARGS(BASE, "--bogus", "1"));
    expect_err(NULL, "provcat-node: unknown flag \"--data_dir\" (see --help)",
               ARGS(BASE, "--data_dir=/x"));
    expect_err(NULL, "provcat-node: --id needs a value",
               ARGS("--data-dir", "/d", "--peer", "127.0.0.1:7001", "--client",
                    "127.0.0.1:8001", "--id"));
    expect_err(NULL, "provcat-node: --data-dir needs a value",
               ARGS("--id", "1", "--data-dir", "--peer", "127.0.0.1:7001",
                    "--client", "127.0.0.1:8001"));
    expect_err(NULL, "provcat-node: --id given twice", ARGS(BASE, "--id", "2"));
    expect_err(NULL, "provcat-node: unexpected argument \"foo\" (see --help)",
               ARGS(BASE, "foo"));
    expect_err(NULL, "provcat-node: unexpected argument \"-v\" (see --help)",
               ARGS(BASE, "-v"));
    expect_err(NULL, "provcat-node: unexpected argument \"--\" (see --help)",
               ARGS(BASE, "--"));
    /* Only the first error is reported. */
    expect_err(NULL, "provcat-node: unknown flag \"--a\" (see --help)",
               ARGS("--a", "--b"));
    expect_err(NULL, "provcat-node: --holidays: empty value",
               ARGS(BASE, "--holidays="));
    expect_err(NULL,
               "provcat-node: --exit-when-removed: \"yes\" is not true or "
               "false",
               ARGS(BASE, "--exit-when-removed", "yes"));
    expect_err(NULL,
               "provcat-node: --exit-when-removed: \"0\" is not true or "
               "false",
               ARGS(BASE, "--exit-when-removed=0"));
}

/* Each required flag missing is named. */
static void
test_config_missing_required(void **state)
{
    (void)state;
    expect_err(NULL, "provcat-node: --id is required", NOARGS);
    expect_err(NULL, "provcat-node: --id is required",
               ARGS("--data-dir", "/d", "--peer", "127.0.0.1:7001", "--client",
                    "127.0.0.1:8001"));
    expect_err(NULL, "provcat-node: --data-dir is required",
               ARGS("--id", "1", "--peer", "127.0.0.1:7001", "--client",
                    "127.0.0.1:8001"));
    expect_err(
        NULL, "provcat-node: --peer is required",
        ARGS("--id", "1", "--data-dir", "/d", "--client", "127.0.0.1:8001"));
    expect_err(
        NULL, "provcat-node: --client is required",
        ARGS("--id", "1", "--data-dir", "/d", "--peer", "127.0.0.1:7001"));
}

/* Numbers: junk, negative, overflow, too small and too large each say so. */
static void
test_config_bad_numbers(void **state)
{
    (void)state;
    expect_err(NULL,
               "provcat-node: --election-timeout-ms: \"abc\" is not a number",
               ARGS(BASE, "--election-timeout-ms", "abc"));
    expect_err(NULL, "provcat-node: --id: \"1x\" is not a number",
               ARGS("--id", "1x", "--data-dir", "/d"));
    expect_err(NULL, "provcat-node: --id: \" 1\" is not a number",
               ARGS("--id", " 1"));
    expect_err(NULL, "provcat-node: --id: \"+1\" is not a number",
               ARGS("--id", "+1"));
    expect_err(NULL, "provcat-node: --id: \"0x10\" is not a number",
               ARGS("--id", "0x10"));
    expect_err(NULL, "provcat-node: --id: \"\" is not a number", ARGS("--id="));
    expect_err(NULL,
               "provcat-node: --id: \"-3\" is negative (expected "
               "1..2147483647)",
               ARGS("--id", "-3"));
    expect_err(NULL,
               "provcat-node: --id: \"0\" is too small (expected "
               "1..2147483647)",
               ARGS("--id", "0"));
    expect_err(NULL,
               "provcat-node: --id: \"2147483648\" is too large (expected "
               "1..2147483647)",
               ARGS("--id", "2147483648"));
    expect_err(NULL,
               "provcat-node: --max-connections: \"99999999999999999999999\" "
               "is too large (expected 1..1048576)",
               ARGS(BASE, "--max-connections", "99999999999999999999999"));
    expect_err(NULL,
               "provcat-node: --election-timeout-ms: \"9\" is too small "
               "(expected 10..600000)",
               ARGS(BASE, "--election-timeout-ms", "9"));
    expect_err(NULL,
               "provcat-node: --rate-limit: \"0\" is too small (expected "
               "1..1000000)",
               ARGS(BASE, "--rate-limit", "0"));
    expect_err(NULL,
               "provcat-node: --segment-size: \"64X\" is not a size (a number "
               "with an optional K, M or G suffix)",
               ARGS(BASE, "--segment-size", "64X"));
    expect_err(NULL,
               "provcat-node: --segment-size: \"M\" is not a size (a number "
               "with an optional K, M or G suffix)",
               ARGS(BASE, "--segment-size", "M"));
    expect_err(NULL,
               "provcat-node: --segment-size: \"64MB\" is not a size (a "
               "number with an optional K, M or G suffix)",
               ARGS(BASE, "--segment-size", "64MB"));
    expect_err(NULL,
               "provcat-node: --segment-size: \"2G\" is too large (expected "
               "1M..1G)",
               ARGS(BASE, "--segment-size", "2G"));
    expect_err(NULL,
               "provcat-node: --segment-size: \"99999999999G\" is too large "
               "(expected 1M..1G)",
               ARGS(BASE, "--segment-size", "99999999999G"));
    expect_err(NULL,
               "provcat-node: --segment-size: \"1000K\" is too small "
               "(expected 1M..1G)",
               ARGS(BASE, "--segment-size", "1000K"));
    expect_err(NULL,
               "provcat-node: --max-body-bytes: \"-1K\" is negative "
               "(expected 1K..1G)",
               ARGS(BASE, "--max-body-bytes", "-1K"));
    expect_err(NULL,
               "provcat-node: --log-level: \"verbose\" is not error, warn, "
               "info or debug",
               ARGS(BASE, "--log-level", "verbose"));
    expect_err(NULL,
               "provcat-node: --initial-cluster-state: \"maybe\" is not new "
               "or existing",
               ARGS(BASE, "--initial-cluster-state", "maybe"));
}

/* Heartbeat must be strictly below the election timeout. */
static void
test_config_heartbeat_below_election(void **state)
{
    (void)state;
    expect_err(NULL,
               "provcat-node: --heartbeat-timeout-ms (1500) must be below "
               "--election-timeout-ms (1000)",
               ARGS(BASE, "--heartbeat-timeout-ms", "1500"));
    expect_err(NULL,
               "provcat-node: --heartbeat-timeout-ms (200) must be below "
               "--election-timeout-ms (200)",
               ARGS(BASE, "--heartbeat-timeout-ms", "200",
                    "--election-timeout-ms", "200"));
    struct cfg c;
    char msg[PC_ERRMSG_SIZE];
    assert_int_equal(parse(&c, msg, NULL,
                           ARGS(BASE, "--heartbeat-timeout-ms", "199",
                                "--election-timeout-ms", "200")),
                     PC_OK);
    cfg_release(&c);
}

/* Peer addresses are IPv4 literals or DNS names with a port; the client
 * address an IPv4 literal; the two distinct. */
static void
test_config_bad_addresses(void **state)
{
    (void)state;
    expect_err(NULL,
               "provcat-node: --peer: \"n_1:7001\" has a bad host (expected "
               "an IPv4 address or a DNS name, host:port in 63 bytes at "
               "most)",
               ARGS("--peer", "n_1:7001"));
    expect_err(NULL,
               "provcat-node: --peer: \"-n1:7001\" has a bad host (expected "
               "an IPv4 address or a DNS name, host:port in 63 bytes at "
               "most)",
               ARGS("--peer", "-n1:7001"));
    expect_err(NULL,
               "provcat-node: --client: \"localhost:8001\" is not an IPv4 "
               "address:port (hostnames are not supported)",
               ARGS("--client", "localhost:8001"));
    expect_err(NULL,
               "provcat-node: --peer: \"127.0.0.1\" has no port (expected "
               "host:port)",
               ARGS("--peer", "127.0.0.1"));
    expect_err(NULL,
               "provcat-node: --peer: \"127.0.0.1:0\" has a bad port "
               "(expected 1..65535)",
               ARGS("--peer", "127.0.0.1:0"));
    expect_err(NULL,
               "provcat-node: --peer: \"127.0.0.256:7001\" is not an IPv4 "
               "address:port (expected a.b.c.d:port)",
               ARGS("--peer", "127.0.0.256:7001"));
    expect_err(NULL,
               "provcat-node: --peer: \"n1:0\" has a bad port (expected "
               "1..65535)",
               ARGS("--peer", "n1:0"));
    expect_err(NULL,
               "provcat-node: --peer: \"127.0.0.01:7001\" is not an IPv4 "
               "address:port (expected a.b.c.d:port)",
               ARGS("--peer", "127.0.0.01:7001"));
    expect_err(NULL,
               "provcat-node: --peer: \"0.0.0.0:7001\" is not an address "
               "other nodes can reach",
               ARGS("--peer", "0.0.0.0:7001"));
    expect_err(NULL,
               "provcat-node: --client: \"127.0.0.1:65536\" has a bad port "
               "(expected 1..65535)",
               ARGS("--client", "127.0.0.1:65536"));
    expect_err(NULL,
               "provcat-node: --client: \"[::1]:8001\" is not an IPv4 "
               "address:port (expected a.b.c.d:port)",
               ARGS("--client", "[::1]:8001"));
    expect_err(NULL,
               "provcat-node: --client (127.0.0.1:7001) and --peer "
               "(127.0.0.1:7001) use the same port",
               ARGS("--id", "1", "--data-dir", "/d", "--peer", "127.0.0.1:7001",
                    "--client", "127.0.0.1:7001"));
    expect_err(NULL,
               "provcat-node: --client (0.0.0.0:7001) and --peer "
               "(127.0.0.1:7001) use the same port",
               ARGS("--id", "1", "--data-dir", "/d", "--peer", "127.0.0.1:7001",
                    "--client", "0.0.0.0:7001", "--advertise-client-url",
                    "http://127.0.0.1:7001"));
    /* The same port on another address is fine. */
    struct cfg c;
    char msg[PC_ERRMSG_SIZE];
    assert_int_equal(
        parse(&c, msg, NULL,
              ARGS("--id", "1", "--data-dir", "/d", "--peer", "127.0.0.1:7001",
                   "--client", "127.0.0.2:7001")),
        PC_OK);
    cfg_release(&c);
    /* A DNS name, as compose and Kubernetes give (63 bytes in all). */
    assert_int_equal(parse(&c, msg, NULL,
                           ARGS("--id", "1", "--data-dir", "/d", "--peer",
                                "provcat-1.provcat.svc:7001", "--client",
                                "0.0.0.0:8001", "--advertise-client-url",
                                "http://provcat-1.provcat.svc:8001")),
                     PC_OK);
    assert_string_equal(c.peer, "provcat-1.provcat.svc:7001");
    assert_string_equal(c.peer_host, "provcat-1.provcat.svc");
    assert_int_equal(c.peer_port, 7001);
    cfg_release(&c);
    char name[80];
    snprintf(name, sizeof(name), "%058d:7001", 0);
    name[0] = 'a';
    assert_int_equal(strlen(name), 63);
    assert_int_equal(cfg_check_peer(name, msg), PC_OK);
    snprintf(name, sizeof(name), "%059d:7001", 0);
    name[0] = 'a';
    assert_int_equal(cfg_check_peer(name, msg), PC_EINVAL);
}

/* --cluster: syntax, unique ids and addresses, and --peer agreement. */
static void
test_config_cluster_errors(void **state)
{
    (void)state;
    expect_err(NULL, "provcat-node: --cluster: duplicate id 1",
               ARGS(BASE, "--cluster", "1=127.0.0.1:7001,1=127.0.0.1:7002"));
    expect_err(NULL,
               "provcat-node: --cluster: duplicate address 127.0.0.1:7002 "
               "(ids 2 and 3)",
               ARGS(BASE, "--cluster",
                    "1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7002"));
    expect_err(NULL, "provcat-node: --cluster: entry 2 is empty",
               ARGS(BASE, "--cluster", "1=127.0.0.1:7001,"));
    expect_err(NULL, "provcat-node: --cluster: entry 1 is empty",
               ARGS(BASE, "--cluster", ",1=127.0.0.1:7001"));
    expect_err(NULL,
               "provcat-node: --cluster: \"127.0.0.1:7001\" is not "
               "ID=HOST:PORT",
               ARGS(BASE, "--cluster", "127.0.0.1:7001"));
    expect_err(NULL,
               "provcat-node: --cluster: \"0=127.0.0.1:7001\" has a bad id "
               "(expected 1..2147483647)",
               ARGS(BASE, "--cluster", "0=127.0.0.1:7001"));
    expect_err(NULL,
               "provcat-node: --cluster: \"x=127.0.0.1:7001\" has a bad id "
               "(expected 1..2147483647)",
               ARGS(BASE, "--cluster", "x=127.0.0.1:7001"));
    expect_err(NULL,
               "provcat-node: --cluster: \"n_1:7001\" has a bad host "
               "(expected an IPv4 address or a DNS name, host:port in 63 "
               "bytes at most)",
               ARGS(BASE, "--cluster", "1=127.0.0.1:7001,2=n_1:7001"));
    expect_err(NULL,
               "provcat-node: --peer (127.0.0.1:7001) must equal this node's "
               "--cluster entry 1=127.0.0.1:7009",
               ARGS(BASE, "--cluster", "1=127.0.0.1:7009,2=127.0.0.1:7002"));
    expect_err(NULL,
               "provcat-node: --peer (127.0.0.1:7001) is the address of node "
               "2 in --cluster",
               ARGS(BASE, "--cluster", "2=127.0.0.1:7001,3=127.0.0.1:7003"));
    expect_err(NULL,
               "provcat-node: --initial-cluster-state new needs --cluster",
               ARGS(BASE, "--initial-cluster-state", "new"));
    expect_err(NULL,
               "provcat-node: --initial-cluster-state new needs this node "
               "(--id 1) in --cluster",
               ARGS(BASE, "--initial-cluster-state", "new", "--cluster",
                    "2=127.0.0.1:7002,3=127.0.0.1:7003"));
    /* A joining node may name a cluster it is not in yet. */
    struct cfg c;
    char msg[PC_ERRMSG_SIZE];
    assert_int_equal(
        parse(&c, msg, NULL,
              ARGS(BASE, "--cluster", "2=127.0.0.1:7002,3=127.0.0.1:7003")),
        PC_OK);
    assert_int_equal(c.n_cluster, 2);
    cfg_release(&c);
    /* Names, as given: raft (or clu_resolve) resolves them. */
    assert_int_equal(parse(&c, msg, NULL,
                           ARGS("--id", "1", "--data-dir", "/d", "--peer",
                                "n1:7001", "--client", "127.0.0.1:8001",
                                "--cluster", "1=n1:7001,2=n2:7001,3=n3:7001",
                                "--initial-cluster-state", "new")),
                     PC_OK);
    assert_int_equal(c.n_cluster, 3);
    assert_string_equal(c.cluster[2].addr, "n3:7001");
    cfg_release(&c);
}

/* --trusted-proxy takes networks (a bare address is a /32); a typo is
 * refused naming it. --log-format is text or json. */
static void
test_config_trusted_proxy_and_log_format(void **state)
{
    (void)state;
    struct cfg c;
    char msg[PC_ERRMSG_SIZE];

    expect_err(NULL,
               "provcat-node: --trusted-proxy: \"10.0.0.1/8\" has address "
               "bits set past the /8 prefix (a network is written with them "
               "zero)",
               ARGS(BASE, "--trusted-proxy", "10.0.0.1/8"));
    expect_err(NULL,
               "provcat-node: --trusted-proxy: \"10.0.0.0/33\" has a bad "
               "prefix length (expected 0..32)",
               ARGS(BASE, "--trusted-proxy", "10.0.0.0/33"));
    expect_err(NULL,
               "provcat-node: --trusted-proxy: \"proxy.local\" is not an "
               "address or network (expected A.B.C.D/N, A.B.C.D, or an IPv6 "
               "one)",
               ARGS(BASE, "--trusted-proxy", "10.0.0.0/8,proxy.local"));
    expect_err(NULL,
               "provcat-node: --trusted-proxy: empty list (expected CIDR "
               "networks separated by commas)",
               ARGS(BASE, "--trusted-proxy", ","));
    expect_err(NULL, "provcat-node: --log-format: \"xml\" is not text or json",
               ARGS(BASE, "--log-format", "xml"));
    assert_int_equal(
        parse(&c, msg, NULL,
              ARGS(BASE, "--trusted-proxy", "127.0.0.1, 10.1.0.0/16,fd00::/8")),
        PC_OK);
    assert_int_equal(c.n_trusted, 3);
    assert_true(http_cidr_match(c.trusted, c.n_trusted, "127.0.0.1"));
    assert_true(http_cidr_match(c.trusted, c.n_trusted, "10.1.200.3"));
    assert_false(http_cidr_match(c.trusted, c.n_trusted, "10.2.0.1"));
    assert_true(http_cidr_match(c.trusted, c.n_trusted, "fd12::1"));
    assert_int_equal(c.log_format, CFG_LOG_TEXT);
    cfg_release(&c);
    /* From the environment too. */
    char *env[] = { "PROVCAT_TRUSTED_PROXY=192.168.0.0/24",
                    "PROVCAT_LOG_FORMAT=json", NULL };
    assert_int_equal(parse(&c, msg, env, ARGS(BASE)), PC_OK);
    assert_int_equal(c.n_trusted, 1);
    assert_int_equal(c.log_format, CFG_LOG_JSON);
    cfg_release(&c);
}

/* The advertised URL: its syntax, and required when binding 0.0.0.0. */
static void
test_config_advertise_url(void **state)
{
    (void)state;
    expect_err(NULL,
               "provcat-node: --advertise-client-url is required when "
               "--client binds 0.0.0.0",
               ARGS("--id", "1", "--data-dir", "/d", "--peer", "127.0.0.1:7001",
                    "--client", "0.0.0.0:8001"));
    expect_err(
        NULL,
        "provcat-node: --advertise-client-url: "
        "\"http://10.0.0.1:8001/api\" has a path (nothing may follow "
        "the port)",
        ARGS(BASE, "--advertise-client-url", "http://10.0.0.1:8001/api"));
    expect_err(NULL,
               "provcat-node: --advertise-client-url: \"http://a:1/\" has a "
               "path (nothing may follow the port)",
               ARGS(BASE, "--advertise-client-url", "http://a:1/"));
    expect_err(NULL,
               "provcat-node: --advertise-client-url: \"ftp://a:1\" does "
               "not start with http:// or https:// (expected "
               "http://HOST:PORT)",
               ARGS(BASE, "--advertise-client-url", "ftp://a:1"));
    expect_err(NULL,
               "provcat-node: --advertise-client-url: \"https://a:443/x\" has "
               "a path (nothing may follow the port)",
               ARGS(BASE, "--advertise-client-url", "https://a:443/x"));
    expect_err(NULL,
               "provcat-node: --advertise-client-url: \"http://node1\" has no "
               "port (expected http://HOST:PORT)",
               ARGS(BASE, "--advertise-client-url", "http://node1"));
    expect_err(NULL,
               "provcat-node: --advertise-client-url: \"http://n_1:80\" has a "
               "bad host (expected an IPv4 address or a DNS name)",
               ARGS(BASE, "--advertise-client-url", "http://n_1:80"));
    expect_err(NULL,
               "provcat-node: --advertise-client-url: \"http://n1:0\" has a "
               "bad port (expected 1..65535)",
               ARGS(BASE, "--advertise-client-url", "http://n1:0"));
    expect_err(NULL,
               "provcat-node: --advertise-client-url: \"http://0.0.0.0:80\" "
               "is not an address clients can reach",
               ARGS(BASE, "--advertise-client-url", "http://0.0.0.0:80"));
    struct cfg c;
    char msg[PC_ERRMSG_SIZE];
    assert_int_equal(
        parse(&c, msg, NULL,
              ARGS("--id", "1", "--data-dir", "/d", "--peer", "127.0.0.1:7001",
                   "--client", "0.0.0.0:8001", "--advertise-client-url",
                   "http://10.1.2.3:8001")),
        PC_OK);
    assert_string_equal(c.advertise_client_url, "http://10.1.2.3:8001");
    cfg_release(&c);
    /* A TLS-terminating proxy in front: the node only sends clients
     * there. */
    assert_int_equal(parse(&c, msg, NULL,
                           ARGS(BASE, "--advertise-client-url",
                                "https://provcat.example:443")),
                     PC_OK);
    assert_string_equal(c.advertise_client_url, "https://provcat.example:443");
    cfg_release(&c);
}

/* Errors from the environment name the variable. */
static void
test_config_env_errors(void **state)
{
    (void)state;
    char *env[] = { "PROVCAT_ID=abc", NULL };
    /* A bad value is reported even when the command line overrides it. */
    expect_err(env, "provcat-node: PROVCAT_ID: \"abc\" is not a number",
               ARGS(BASE));
    char *env2[] = { "PROVCAT_PEER=0.0.0.0:1", NULL };
    expect_err(env2,
               "provcat-node: PROVCAT_PEER: \"0.0.0.0:1\" is not an address "
               "other nodes can reach",
               NOARGS);
    char *env3[] = { "PROVCAT_CONFIG=/nonexistent/p.conf", NULL };
    expect_err(env3,
               "provcat-node: PROVCAT_CONFIG: cannot read "
               "'/nonexistent/p.conf': No such file or directory",
               ARGS(BASE));
}

/* Config-file errors name the file and line. */
static void
test_config_file_errors(void **state)
{
    (void)state;
    char path[64], want[PC_ERRMSG_SIZE];
    static const struct {
        const char *text;
        const char *want; /* after "provcat-node: PATH:" */
    } cases[] = {
        { "id = 1\n# c\nfoo = 2\n", "3: unknown key \"foo\"" },
        { "data_dir = /x\n",
          "1: unknown key \"data_dir\" (did you mean \"data-dir\"?)" },
        { "--id = 1\n", "1: unknown key \"--id\"" },
        { "id 1\n", "1: expected \"key = value\"" },
        { "id = 1\nid = 2\n", "2: \"id\" already set on line 1" },
        { "config = /x\n", "1: \"config\" cannot be set in a config file" },
        { "help = 1\n", "1: \"help\" cannot be set in a config file" },
        { "\nelection-timeout-ms = abc\n",
          "2: election-timeout-ms: \"abc\" is not a number" },
        { "max-connections = 100 # comment\n",
          "1: max-connections: \"100 # comment\" is not a number" },
        { "data-dir =\n", "1: data-dir: empty value" },
        { "cluster = 1=127.0.0.1:7001,1=127.0.0.1:7002\n",
          "1: cluster: duplicate id 1" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_file(path, cases[i].text);
        snprintf(want, sizeof(want), "provcat-node: %s:%s", path,
                 cases[i].want);
        expect_err(NULL, want, ARGS(BASE, "--config", path));
        unlink(path);
    }

    write_file_n(path, "id = 1\nrate-limit = 2\0\n", 23);
    snprintf(want, sizeof(want), "provcat-node: %s:2: contains a NUL byte",
             path);
    expect_err(NULL, want, ARGS(BASE, "--config", path));
    unlink(path);

    expect_err(NULL,
               "provcat-node: --config: cannot read '/nonexistent/p.conf': "
               "No such file or directory",
               ARGS(BASE, "--config", "/nonexistent/p.conf"));
    expect_err(NULL, "provcat-node: --config: cannot read '/': Is a directory",
               ARGS(BASE, "--config", "/"));
    expect_err(NULL, "provcat-node: --config: empty value",
               ARGS(BASE, "--config="));

    /* A file over 1 MiB is refused rather than parsed. */
    size_t big = 1024 * 1024 + 100;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, '#', big);
    for (size_t i = 79; i < big; i += 80) {
        text[i] = '\n';
    }
    write_file_n(path, text, big);
    free(text);
    snprintf(want, sizeof(want),
             "provcat-node: --config: '%s' is larger than 1 MiB", path);
    expect_err(NULL, want, ARGS(BASE, "--config", path));
    unlink(path);
}

/* cfg_parse_hostport takes canonical IPv4 a.b.c.d:port and nothing else. */
static void
test_config_parse_hostport(void **state)
{
    (void)state;
    char host[CFG_HOST_SIZE] = "untouched";
    uint16_t port = 42;

    assert_int_equal(
        cfg_parse_hostport("10.1.2.3:65535", host, sizeof(host), &port), PC_OK);
    assert_string_equal(host, "10.1.2.3");
    assert_int_equal(port, 65535);
    assert_int_equal(
        cfg_parse_hostport("255.255.255.255:1", host, sizeof(host), &port),
        PC_OK);
    assert_string_equal(host, "255.255.255.255");
    assert_int_equal(port, 1);
    assert_int_equal(
        cfg_parse_hostport("0.0.0.0:80", host, sizeof(host), &port), PC_OK);
    assert_string_equal(host, "0.0.0.0");

    static const char *const bad[] = {
        "",
        ":80",
        "1.2.3:80",
        "1.2.3.4.5:80",
        "1.2.3.4:",
        "1.2.3.4:080",
        "1.2.3.4:65536",
        "[::1]:80",
        "a.b.c.d:80",
        "1.2.3.4:80 ",
        " 1.2.3.4:80",
        "1.2.3.4:+80",
        "1.2.3.-4:1",
        "256.1.1.1:1",
        "01.1.1.1:1",
        "1..2.3:4",
        "1.2.3.4:1:2",
        "1.2.3.1000:1",
        "1.2.3.4:99999999999999999999",
    };
    strcpy(host, "untouched");
    port = 42;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (cfg_parse_hostport(bad[i], host, sizeof(host), &port) !=
            PC_EINVAL) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_string_equal(host, "untouched");
    assert_int_equal(port, 42);
    /* A host buffer too small is refused, not overrun. */
    char small[8] = "x";
    assert_int_equal(
        cfg_parse_hostport("10.1.2.3:1", small, sizeof(small), &port),
        PC_EINVAL);
    assert_string_equal(small, "x");
    assert_int_equal(
        cfg_parse_hostport("1.2.3.4:1", small, sizeof(small), &port), PC_OK);
    assert_string_equal(small, "1.2.3.4");

    char msg[PC_ERRMSG_SIZE];
    assert_int_equal(cfg_check_peer("127.0.0.1:7001", msg), PC_OK);
    assert_int_equal(cfg_check_peer("0.0.0.0:7001", msg), PC_EINVAL);
    assert_string_equal(msg, "\"0.0.0.0:7001\" is not an address other "
                             "nodes can reach");
    assert_int_equal(cfg_check_peer("localhost:1", NULL), PC_OK);
    assert_int_equal(cfg_check_peer("localhost", msg), PC_EINVAL);
    assert_string_equal(msg, "\"localhost\" has no port (expected host:port)");
    assert_int_equal(cfg_check_peer("local_host:1", NULL), PC_EINVAL);
    /* cfg_parse_hostport (the HTTP listener's) still takes no name. */
    assert_int_equal(
        cfg_parse_hostport("localhost:1", host, sizeof(host), &port),
        PC_EINVAL);
}

/* cfg_check_client_url accepts IPv4 and DNS hosts with a port, no path. */
static void
test_config_check_client_url(void **state)
{
    (void)state;
    static const char *const good[] = {
        "http://127.0.0.1:8001",       "http://node-1.example.com:80",
        "http://localhost:65535",      "http://N1:1",
        "https://provcat.example:443", "https://10.0.0.1:8443",
    };
    static const char *const bad[] = {
        "http://node-.x:80", "http://-a:80",
        "http://a..b:80",    "HTTP://x:80",
        "http://x:80/",      "http://x:80?a",
        "http://u@x:80",     "http://[::1]:80",
        "http://x:",         "http://:80",
        "http://1.2.3:80",   "http://x.:80",
        "http://x:080",      "http://x:65536",
        "http://x:80:81",    "",
        "http://",           "http://x:8 0",
        "https://",          "https://x",
        "https://x:80/",     "httpss://x:80",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (cfg_check_client_url(good[i], NULL) != PC_OK) {
            fail_msg("refused \"%s\"", good[i]);
        }
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (cfg_check_client_url(bad[i], NULL) != PC_EINVAL) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    /* Host labels longer than 63 bytes are not DNS names. */
    char url[128];
    snprintf(url, sizeof(url), "http://%0*d:80", 64, 0);
    url[7] = 'a';
    assert_int_equal(cfg_check_client_url(url, NULL), PC_EINVAL);
    snprintf(url, sizeof(url), "http://%0*d:80", 63, 0);
    url[7] = 'a';
    assert_int_equal(cfg_check_client_url(url, NULL), PC_OK);
}

/* cfg_parse_cluster keeps order, and writes nothing on error. */
static void
test_config_parse_cluster(void **state)
{
    (void)state;
    struct cfg_member *m = NULL;
    size_t n = 99;
    char msg[PC_ERRMSG_SIZE];

    assert_int_equal(cfg_parse_cluster("3=10.0.0.3:7003,1=10.0.0.1:7001,"
                                       "2147483647=10.0.0.2:7002",
                                       &m, &n, msg),
                     PC_OK);
    assert_int_equal(n, 3);
    assert_int_equal(m[0].id, 3);
    assert_string_equal(m[0].addr, "10.0.0.3:7003");
    assert_int_equal(m[1].id, 1);
    assert_int_equal(m[2].id, 2147483647u);
    assert_string_equal(m[2].addr, "10.0.0.2:7002");
    pc_free(m);

    m = NULL;
    n = 99;
    assert_int_equal(cfg_parse_cluster("", &m, &n, msg), PC_EINVAL);
    assert_string_equal(msg, "empty list (expected ID=HOST:PORT,...)");
    assert_int_equal(cfg_parse_cluster("1=1.2.3.4:5,2=1.2.3.4:5", &m, &n, msg),
                     PC_EINVAL);
    assert_string_equal(msg, "duplicate address 1.2.3.4:5 (ids 1 and 2)");
    assert_int_equal(cfg_parse_cluster("1=1.2.3.4:5=6", &m, &n, msg),
                     PC_EINVAL);
    assert_int_equal(cfg_parse_cluster("1=255.255.255.255:655350", &m, &n, msg),
                     PC_EINVAL);
    assert_string_equal(msg, "\"255.255.255.255:655350\" has a bad port "
                             "(expected 1..65535)");
    assert_int_equal(cfg_parse_cluster("1 =1.2.3.4:5", &m, &n, msg), PC_EINVAL);
    assert_int_equal(cfg_parse_cluster("2147483648=1.2.3.4:5", &m, &n, msg),
                     PC_EINVAL);
    /* A long entry is cut in the message, which stays one line. */
    char longer[200];
    memset(longer, '9', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(cfg_parse_cluster(longer, &m, &n, msg), PC_EINVAL);
    assert_true(strlen(msg) < 100);
    assert_non_null(strstr(msg, "...\""));
    assert_null(m);
    assert_int_equal(n, 99);
}

/* Read all of a memstream-backed description. */
static char *
describe(const struct cfg *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    cfg_describe(c, f);
    assert_int_equal(fclose(f), 0);
    return text;
}

/* cfg_describe prints every setting, reads back to the same config, no secrets.
 */
static void
test_config_describe_roundtrip(void **state)
{
    (void)state;
    char tok[64], path[64], msg[PC_ERRMSG_SIZE];
    struct cfg c, d;

    write_file(tok, "pct_SECRETSECRET\n");
    assert_int_equal(
        parse(&c, msg, NULL,
              ARGS("--id", "7", "--data-dir", "/var/lib/pc", "--peer",
                   "10.0.0.7:7007", "--client", "0.0.0.0:8007",
                   "--advertise-client-url", "http://node7.example:8007",
                   "--cluster", "7=10.0.0.7:7007,8=10.0.0.8:7008",
                   "--initial-cluster-state", "new", "--admin-token-file", tok,
                   "--segment-size", "8M", "--log-level", "debug",
                   "--log-format", "json", "--trusted-proxy",
                   "10.0.0.0/8 192.168.0.0/16")),
        PC_OK);
    char *text = describe(&c);
    assert_null(strstr(text, "SECRET"));
    assert_non_null(strstr(text, "admin-token-file = "));
    assert_non_null(strstr(text, tok));
    assert_non_null(strstr(text, "\nsegment-size = 8388608\n"));
    assert_non_null(strstr(text, "\nlog-level = debug\n"));
    assert_non_null(strstr(text, "\ninitial-cluster-state = new\n"));
    assert_non_null(
        strstr(text, "\ncluster = 7=10.0.0.7:7007,8=10.0.0.8:7008\n"));
    assert_non_null(strstr(text, "\n# holidays: not set\n"));
    assert_non_null(strstr(text, "\nlog-format = json\n"));
    assert_non_null(
        strstr(text, "\ntrusted-proxy = 10.0.0.0/8 192.168.0.0/16\n"));
    assert_true(strncmp(text, "id = 7\n", 7) == 0);

    write_file(path, text);
    assert_int_equal(parse(&d, msg, NULL, ARGS("--config", path)), PC_OK);
    char *again = describe(&d);
    /* Identical but for the line saying which file was read. */
    char *from = strstr(again, "# read from ");
    assert_non_null(from);
    *from = '\0';
    assert_string_equal(again, text);
    free(again);
    free(text);
    cfg_release(&d);
    cfg_release(&c);
    unlink(path);
    unlink(tok);
}

/* The manual lists every flag with its environment variable, and the sections.
 */
static void
test_config_usage_text(void **state)
{
    (void)state;
    static const char *const flags[] = {
        "id",
        "data-dir",
        "peer",
        "client",
        "advertise-client-url",
        "cluster",
        "initial-cluster-state",
        "admin-token-file",
        "snapshot-threshold",
        "snapshot-trailing",
        "max-inflight",
        "segment-size",
        "election-timeout-ms",
        "heartbeat-timeout-ms",
        "max-body-bytes",
        "max-connections",
        "idle-timeout-ms",
        "request-timeout-ms",
        "rate-limit",
        "log-level",
        "log-file",
        "security-log-max-bytes",
        "security-log-keep",
        "security-log-rate",
        "holidays",
        "restore",
        "config",
    };
    static const char *const sections[] = {
        "NAME\n",
        "\nSYNOPSIS\n",
        "\nDESCRIPTION\n",
        "\nOPTIONS\n",
        "\nCONFIGURATION FILE\n",
        "\nBOOTSTRAP AND JOIN\n",
        "\nEXIT STATUS\n",
        "\nSIGNALS\n",
        "\nEXAMPLES\n",
    };
    char *text = NULL, want[128];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    cfg_usage(f);
    assert_int_equal(fclose(f), 0);
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        snprintf(want, sizeof(want), "\n    --%s ", flags[i]);
        if (strstr(text, want) == NULL) {
            fail_msg("no entry for --%s", flags[i]);
        }
        int n = snprintf(want, sizeof(want), "PROVCAT_");
        for (const char *p = flags[i]; *p != '\0'; p++) {
            want[n++] = *p == '-' ? '_' : (char)(*p - 'a' + 'A');
        }
        want[n++] = '.';
        want[n] = '\0';
        if (strstr(text, want) == NULL) {
            fail_msg("no %s", want);
        }
    }
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        assert_non_null(strstr(text, sections[i]));
    }
    assert_non_null(strstr(text, "\n    --help\n"));
    assert_non_null(strstr(text, "\n    --version\n"));
    assert_non_null(strstr(text, "Default: 65536. Environment: "
                                 "PROVCAT_SNAPSHOT_THRESHOLD."));
    assert_non_null(strstr(text, "Default: 64M."));
    assert_non_null(
        strstr(text, "1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003"));
    assert_non_null(strstr(text, "--initial-cluster-state new"));
    assert_non_null(strstr(text, "POST /v1/members"));
    assert_non_null(strstr(text, "SIGTERM"));
    assert_non_null(strstr(text, "    2   A usage or configuration error"));
    assert_non_null(strstr(text, "SIGHUP opens"));
    /* Fits an 80-column terminal. */
    for (char *line = text; *line != '\0';) {
        size_t n = strcspn(line, "\n");
        if (n > 80) {
            fail_msg("line too long: %.*s", (int)n, line);
        }
        line += n + (line[n] == '\n');
    }
    free(text);
}

/* Each allocation failing in turn gives PC_ENOMEM, `*c` untouched, no leak. */
static void
test_config_survives_every_oom(void **state)
{
    (void)state;
    char path[64], msg[PC_ERRMSG_SIZE];
    struct cfg c, pattern;
    int n;

    write_file(path, "data-dir = /from-file\n"
                     "holidays = /h.json\n"
                     "cluster = 1=127.0.0.1:7001,2=127.0.0.1:7002\n");
    char *env[] = { "PROVCAT_RESTORE=/r.pcb", "PROVCAT_ADMIN_TOKEN_FILE=/t",
                    NULL };
    memset(&pattern, 0x5a, sizeof(pattern));
    struct test_oom o = { 0 };
    for (n = 0;; n++) {
        memset(&c, 0x5a, sizeof(c));
        test_oom_arm(&o, n, 1);
        int rc = parse(&c, msg, env,
                       ARGS("--config", path, "--id", "1", "--peer",
                            "127.0.0.1:7001", "--client", "127.0.0.1:8001",
                            "--data-dir", "/from-argv", "--cluster",
                            "1=127.0.0.1:7001,3=127.0.0.1:7003"));
        if (test_oom_disarm(&o, rc == PC_OK)) {
            break;
        }
        assert_int_equal(rc, PC_ENOMEM);
        assert_string_equal(msg, "out of memory");
        assert_memory_equal(&c, &pattern, sizeof(c));
    }
    test_oom_end(&o);
    assert_true(n >= 8);
    assert_string_equal(c.data_dir, "/from-argv");
    assert_int_equal(c.cluster[1].id, 3);
    assert_string_equal(c.restore, "/r.pcb");
    cfg_release(&c);
    unlink(path);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_all_flags_from_argv),
        cmocka_unit_test(test_config_equals_form),
        cmocka_unit_test(test_config_all_flags_from_env),
        cmocka_unit_test(test_config_all_flags_from_file),
        cmocka_unit_test(test_config_precedence),
        cmocka_unit_test(test_config_empty_env_is_unset),
        cmocka_unit_test(test_config_help_and_version),
        cmocka_unit_test(test_config_size_suffixes),
        cmocka_unit_test(test_config_usage_errors),
        cmocka_unit_test(test_config_missing_required),
        cmocka_unit_test(test_config_bad_numbers),
        cmocka_unit_test(test_config_heartbeat_below_election),
        cmocka_unit_test(test_config_bad_addresses),
        cmocka_unit_test(test_config_cluster_errors),
        cmocka_unit_test(test_config_advertise_url),
        cmocka_unit_test(test_config_trusted_proxy_and_log_format),
        cmocka_unit_test(test_config_env_errors),
        cmocka_unit_test(test_config_file_errors),
        cmocka_unit_test(test_config_parse_hostport),
        cmocka_unit_test(test_config_check_client_url),
        cmocka_unit_test(test_config_parse_cluster),
        cmocka_unit_test(test_config_describe_roundtrip),
        cmocka_unit_test(test_config_usage_text),
        cmocka_unit_test(test_config_survives_every_oom),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
