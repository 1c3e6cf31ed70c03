/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the snapshot decoder: any input must be refused
 * cleanly or yield a ledger that agrees with the header and survives a
 * re-encode and decode unchanged; snap_verify gives the same verdict, a
 * damage location inside the input, and a summary that agrees. Seeds in
 * tests/fuzz/corpus/fuzz_snap/ come from `PC_SNAP_WRITE_CORPUS=dir
 * build/tests/test_snap`.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "storage/led.h"
#include "storage/snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
    if (!ok) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errmsg[PC_ERRMSG_SIZE];
    uint8_t root[PC_HASH_LEN], root2[PC_HASH_LEN];
    struct snap_info info;
    struct led *l = NULL, *l2 = NULL;
    struct led_view *v;
    struct pc_buf out;
    int rc;

    struct snap_summary sum;
    struct snap_damage dmg;
    int peek = snap_peek(data, size, &info, errmsg);
    int vrc = snap_verify(data, size, NULL, &sum, &dmg, errmsg);
    rc = snap_decode(data, size, &l, errmsg);
    check(vrc == rc || vrc == PC_ENOMEM || rc == PC_ENOMEM);
    if (rc != PC_OK) {
        check(rc == PC_ECORRUPT && l == NULL &&
              strncmp(errmsg, "snapshot: ", 10) == 0);
        check(vrc != PC_ECORRUPT ||
              (dmg.part != SNAP_PART_NONE && dmg.byte <= size &&
               (dmg.part == SNAP_PART_FRAME) == (dmg.frame > 0)));
        return 0;
    }
    check(peek == PC_OK && info.count == led_count(l));
    check(vrc != PC_OK || (sum.count == led_count(l) && sum.bytes == size));
    led_root(l, root);
    check(memcmp(root, info.root, PC_HASH_LEN) == 0);

    pc_buf_init(&out);
    check(led_view_open(l, &v) == PC_OK);
    check(snap_encode_buf(v, &out, errmsg) == PC_OK);
    led_view_close(l, v);
    check(snap_decode(out.data, out.len, &l2, errmsg) == PC_OK);
    check(led_count(l2) == led_count(l));
    led_root(l2, root2);
    check(memcmp(root, root2, PC_HASH_LEN) == 0);
    led_free(l2);
    led_free(l);
    pc_buf_release(&out);
    return 0;
}
