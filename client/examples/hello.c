/* SPDX-License-Identifier: MIT */
/* Write a record, read it back: hello ENTRY KEY (PROVCAT_ENDPOINTS and
 * PROVCAT_TOKEN name the cluster and a provider of ENTRY's org). */
#include <provcat.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
    char err[PROVCAT_ERRMSG_SIZE];
    struct provcat *c;
    struct provcat_write *w = NULL;
    struct provcat_record *r = NULL;

    if (argc != 3) {
        fprintf(stderr, "usage: hello ENTRY KEY\n");
        return 2;
    }
    if (provcat_new(NULL, NULL, &c, err) != PROVCAT_OK) {
        fprintf(stderr, "hello: %s\n", err);
        return 2;
    }
    if (provcat_record_put(c, argv[1], argv[2], "{\"name\":\"hello\"}",
                           PROVCAT_ANY_VERSION, &w) != PROVCAT_OK ||
        provcat_record_get(c, argv[1], argv[2], 0, 0, &r) != PROVCAT_OK) {
        fprintf(stderr, "hello: %s\n", provcat_errmsg(c));
        provcat_close(c);
        return 1;
    }
    printf("wrote version %llu, read %s\n", (unsigned long long)w->version,
           r->value);
    provcat_write_free(w);
    provcat_record_free(r);
    provcat_close(c);
    return 0;
}
