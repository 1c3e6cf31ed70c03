/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/jcs: RFC 8785 vectors, every rejection class with
 * its message, limits, random documents (idempotence and content
 * preservation), out-of-memory at every allocation, and a throughput note;
 * the writer: its bytes against the parser's and emitter's (escapes, key
 * order, numbers, random documents), sticky errors, asserts, out-of-memory.
 */
#include "tests/lib/test.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/jcs.h"

/* Canonicalise `in` (NUL-terminated) and compare with `want`. */
static void
expect_canon(const char *in, const char *want)
{
    struct pc_buf b;
    char msg[PC_ERRMSG_SIZE] = "";
    int rc;

    pc_buf_init(&b);
    rc = jcs_canonicalize(in, strlen(in), &b, msg);
    if (rc != PC_OK) {
        fail_msg("canonicalize %s: %s", in, msg);
    }
    if (b.len != strlen(want) || memcmp(b.data, want, b.len) != 0) {
        fail_msg("canonicalize %s: got %.*s want %s", in, (int)b.len,
                 (const char *)b.data, want);
    }
    pc_buf_release(&b);
}

/* Refuse `in` (`len` bytes) with PC_EINVAL and exactly message `want`. */
static void
expect_reject(const char *in, size_t len, const char *want)
{
    struct pc_buf b;
    char msg[PC_ERRMSG_SIZE] = "";
    int rc;

    pc_buf_init(&b);
    rc = jcs_canonicalize(in, len, &b, msg);
    if (rc != PC_EINVAL) {
        fail_msg("input %.*s: rc %d, want PC_EINVAL", (int)len, in, rc);
    }
    if (strcmp(msg, want) != 0) {
        fail_msg("input %.*s: message \"%s\", want \"%s\"", (int)len, in, msg,
                 want);
    }
    assert_int_equal(b.len, 0);
    pc_buf_release(&b);
}

static double
from_bits(uint64_t bits)
{
    double d;

    memcpy(&d, &bits, sizeof(d));
    return d;
}

/* RFC 8785 appendix B: IEEE-754 bit patterns and their canonical text. */
static const struct {
    uint64_t bits;
    const char *text;
} rfc_numbers[] = {
    { 0x0000000000000000ULL, "0" },
    { 0x8000000000000000ULL, "0" },
    { 0x0000000000000001ULL, "5e-324" },
    { 0x8000000000000001ULL, "-5e-324" },
    { 0x7fefffffffffffffULL, "1.7976931348623157e+308" },
    { 0xffefffffffffffffULL, "-1.7976931348623157e+308" },
    { 0x4340000000000000ULL, "9007199254740992" },
    { 0xc340000000000000ULL, "-9007199254740992" },
    { 0x4430000000000000ULL, "295147905179352830000" },
    { 0x44b52d02c7e14af5ULL, "9.999999999999997e+22" },
    { 0x44b52d02c7e14af6ULL, "1e+23" },
    { 0x44b52d02c7e14af7ULL, "1.0000000000000001e+23" },
    { 0x444b1ae4d6e2ef4eULL, "999999999999999700000" },
    { 0x444b1ae4d6e2ef4fULL, "999999999999999900000" },
    { 0x444b1ae4d6e2ef50ULL, "1e+21" },
    { 0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7" },
    { 0x3eb0c6f7a0b5ed8dULL, "0.000001" },
    { 0x41b3de4355555553ULL, "333333333.3333332" },
    { 0x41b3de4355555554ULL, "333333333.33333325" },
    { 0x41b3de4355555555ULL, "333333333.3333333" },
    { 0x41b3de4355555556ULL, "333333333.3333334" },
    { 0x41b3de4355555557ULL, "333333333.33333343" },
    { 0xbecbf647612f3696ULL, "-0.0000033333333333333333" },
    { 0x43143ff3c1cb0959ULL, "1424953923781206.2" },
    /* Not in the RFC table; from the JCS reference test data. */
    { 0x4430000000000001ULL, "295147905179352900000" },
    { 0x4415af1d78b58c40ULL, "100000000000000000000" },
    { 0x3e7ad7f29abcaf48ULL, "1e-7" },
};

/*
 * Doubles from a seeded generator (random bits, decades, integers, edges)
 * formatted by an independent implementation: Python's shortest repr
 * rearranged by the ECMAScript rules.
 */
static const struct {
    uint64_t bits;
    const char *text;
} oracle_numbers[] = {
    { 0xb3d432ef707050e7ULL, "-5.02793897365748e-59" },
    { 0xea232e95049f6dc4ULL, "-1.8794038050047782e+203" },
    { 0x7fb0a5a5c3e2ad5cULL, "1.1689963516710327e+307" },
    { 0x931e59db6a3460e9ULL, "-1.3756761126028206e-216" },
    { 0xaf1e42b547b36c2fULL, "-9.96915655096915e-82" },
    { 0x3fa4933936dc6a21ULL, "0.04018572611513017" },
    { 0xd1c89c8263ec4cb0ULL, "-9.562346480129106e+85" },
    { 0x17fac9bfd4f1bb02ULL, "3.669648223435266e-193" },
    { 0x463ce3a59131f193ULL, "2.288841806053521e+30" },
    { 0xcf974b547a22df32ULL, "-2.634073021688141e+75" },
    { 0xe7e229f94cea7608ULL, "-2.5897496914530976e+192" },
    { 0x2a3652124a6bac41ULL, "2.4330286748811588e-105" },
    { 0x3056d31d87ef2bfdULL, "7.884707671321887e-76" },
    { 0x43e72b22ed9c8d00ULL, "13355731926399844000" },
    { 0x4cdf8c4da633cc01ULL, "2.0278311027403974e+62" },
    { 0xdd8d5857e2ce258cULL, "-4.473046650003945e+142" },
    { 0x1e3ebaa09843dbd2ULL, "5.336186130365805e-163" },
    { 0xabc41e709d10acc3ULL, "-7.358609826747707e-98" },
    { 0x37e45c4b34380dd8ULL, "1.869818687813732e-39" },
    { 0xb6119f7a3aa80360ULL, "-3.0145294347117405e-48" },
    { 0xa6f4fcf3e62fab06ULL, "-5.079895826507493e-121" },
    { 0x9651aaa4cde5978bULL, "-3.6062457693943185e-201" },
    { 0x0f36ccf38add66c5ULL, "2.240936274931638e-235" },
    { 0x0f90eba328ef5146ULL, "1.0643280237031127e-233" },
    { 0x3bdd720acfcfa8e6ULL, "2.494128956845254e-20" },
    { 0xcdcfe48d647fc608ULL, "-6.717404021199988e+66" },
    { 0xf2846b7aeacf5e8eULL, "-4.357114132154027e+243" },
    { 0xb961bfd091033d86ULL, "-2.734709005303131e-32" },
    { 0xae8f377e458e217aULL, "-2.0086265490325975e-84" },
    { 0xd6d28dbdac533326ULL, "-1.742963872807937e+110" },
    { 0x40191f0e5e342fa7ULL, "6.280328247008504" },
    { 0xee5f47c74823ceefULL, "-4.522815621111845e+223" },
    { 0xdb9653e125da579bULL, "-1.5848245820088444e+133" },
    { 0x3f384f5e4b24d03dULL, "0.00037094165886064954" },
    { 0xd79b5b507d3bb96dULL, "-1.0526452553326213e+114" },
    { 0x95c896d622445a65ULL, "-9.803415966533524e-204" },
    { 0x9414fa1dd248eccbULL, "-6.231129863923344e-212" },
    { 0x3b51aee8a1f22f65ULL, "5.850892388892922e-23" },
    { 0x3297ce2fce5a836bULL, "5.651148737138479e-65" },
    { 0x4a2e725b74040c49ULL, "2.224895677100835e+49" },
    { 0x32c4ef55854d00a2ULL, "3.9757749756892016e-64" },
    { 0x6dc0bed5446a79d4ULL, "4.728936110546973e+220" },
    { 0x02456632223af44dULL, "1.022520173533327e-297" },
    { 0x00084e4d552bae4cULL, "1.1550730408667605e-308" },
    { 0x998aec6465ce845cULL, "-1.2375498435586196e-185" },
    { 0xd71e3126c0a8cae3ULL, "-4.538060284543174e+111" },
    { 0x0e801c9dac654419ULL, "7.732091676832685e-239" },
    { 0x334464a71af63d03ULL, "9.91461238273325e-62" },
    { 0xb206bed1fc004ea7ULL, "-1.0545918306224903e-67" },
    { 0x700b3d8ef247161bULL, "5.286413847383036e+231" },
    { 0x46ef5c5edf3a5d93ULL, "5.088584400972148e+33" },
    { 0x37ba03a918d72de8ULL, "2.9862950659269556e-40" },
    { 0x0ccd764288b9210cULL, "5.2671428489023654e-247" },
    { 0x69fc1144e43ab3e7ULL, "3.4374799720046436e+202" },
    { 0x0dc8cc0ef46cf1e0ULL, "2.9053231758439404e-242" },
    { 0x78a4d6c503f85469ULL, "1.4091648001157815e+273" },
    { 0x524c6581f835cfccULL, "2.824449291644886e+88" },
    { 0xd9df56b6addfbeafULL, "-8.286660476508176e+124" },
    { 0x1ceb45e551abeb98ULL, "2.2583219000575292e-169" },
    { 0x9b35186fc51fbe24ULL, "-1.3014619446481086e-177" },
    { 0xc11d72dd36c85e9cULL, "-482487.30349872424" },
    { 0xc129c4bc6bcc626eULL, "-844382.2105437049" },
    { 0xc0fd0b70e6eb2cf8ULL, "-118967.05637662474" },
    { 0xc0f213648902f568ULL, "-74038.28345008718" },
    { 0x4124547129287dcaULL, "666168.5803870496" },
    { 0xc11b9d98170e84b0ULL, "-452454.02251632046" },
    { 0x4108bc7f37b9baa8ULL, "202639.90220971894" },
    { 0x41035080de20e008ULL, "158224.10846114182" },
    { 0xc0e775ad1c6c9590ULL, "-48045.409719745745" },
    { 0xc112bec3bcbf5c7cULL, "-307120.9343237353" },
    { 0x4123d65e9c4eb2deULL, "650031.3052879234" },
    { 0x412399c45088b432ULL, "642274.1572929679" },
    { 0xc11e7068e6882b7eULL, "-498714.2251288219" },
    { 0xc1030c5e12320be4ULL, "-156043.75888451852" },
    { 0x4123671d7571cc92ULL, "635790.7293838433" },
    { 0x41252fd72e99b726ULL, "694251.5910165056" },
    { 0x4127e05eac01b3b8ULL, "782383.3359504854" },
    { 0x41011ae1a5ab2540ULL, "140124.2058928404" },
    { 0xc10b93ed91514db0ULL, "-225917.6959558553" },
    { 0x410a1df96bacd780ULL, "213951.17757576331" },
    { 0x41016a1bd147e8e8ULL, "142659.4771879383" },
    { 0xc126630322797053ULL, "-733569.5673327543" },
    { 0xc124aa2928c78d8aULL, "-677140.5796474677" },
    { 0x412a8db99c273618ULL, "870108.8049866585" },
    { 0xc1030a9e64e4bcc0ULL, "-155987.79926440679" },
    { 0xc1218c53bdb4150eULL, "-575017.8705145435" },
    { 0xc118020554de808cULL, "-393345.3328800283" },
    { 0xc1176d4ba4c4fdcaULL, "-383826.9109077124" },
    { 0x411b0b0442575f94ULL, "443073.0647864279" },
    { 0xc10289f0fbca4ba8ULL, "-151870.12294444186" },
    { 0x3e112e0be826d695ULL, "1e-9" },
    { 0x3e19c511dc3a41e0ULL, "1.5000000000000002e-9" },
    { 0x3e45798ee2308c39ULL, "9.999999999999999e-9" },
    { 0x3e1535afdf5ae86eULL, "1.2345678901234568e-9" },
    { 0x3e45798ee2308c3aULL, "1e-8" },
    { 0x3e501b2b29a4692cULL, "1.5000000000000002e-8" },
    { 0x3e7ad7f29abcaf47ULL, "9.999999999999998e-8" },
    { 0x3e4a831bd731a289ULL, "1.2345678901234567e-8" },
    { 0x3e7ad7f29abcaf48ULL, "1e-7" },
    { 0x3e8421f5f40d8376ULL, "1.5e-7" },
    { 0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7" },
    { 0x3e8091f1667f0595ULL, "1.2345678901234566e-7" },
    { 0x3eb0c6f7a0b5ed8dULL, "0.000001" },
    { 0x3eb92a737110e454ULL, "0.0000015" },
    { 0x3ee4f8b588e368efULL, "0.000009999999999999997" },
    { 0x3eb4b66dc01ec6fbULL, "0.0000012345678901234567" },
    { 0x3ee4f8b588e368f1ULL, "0.00001" },
    { 0x3eef75104d551d6aULL, "0.000015000000000000002" },
    { 0x3f1a36e2eb1c432cULL, "0.00009999999999999999" },
    { 0x3ee9e409302678baULL, "0.000012345678901234568" },
    { 0x3f1a36e2eb1c432dULL, "0.0001" },
    { 0x3f23a92a30553262ULL, "0.00015000000000000001" },
    { 0x3f50624dd2f1a9fbULL, "0.0009999999999999998" },
    { 0x3f202e85be180b74ULL, "0.00012345678901234567" },
    { 0x3f50624dd2f1a9fcULL, "0.001" },
    { 0x3f589374bc6a7efaULL, "0.0015" },
    { 0x3f847ae147ae147aULL, "0.009999999999999998" },
    { 0x3f543a272d9e0e51ULL, "0.0012345678901234567" },
    { 0x3f847ae147ae147bULL, "0.01" },
    { 0x3f8eb851eb851eb8ULL, "0.015" },
    { 0x3fb9999999999998ULL, "0.09999999999999998" },
    { 0x3f8948b0f90591e5ULL, "0.012345678901234567" },
    { 0x3fb999999999999aULL, "0.1" },
    { 0x3fc3333333333334ULL, "0.15000000000000002" },
    { 0x3fefffffffffffffULL, "0.9999999999999999" },
    { 0x3fbf9add3746f65fULL, "0.12345678901234568" },
    { 0x3ff0000000000000ULL, "1" },
    { 0x3ff8000000000000ULL, "1.5" },
    { 0x4023ffffffffffffULL, "9.999999999999998" },
    { 0x3ff3c0ca428c59fbULL, "1.2345678901234567" },
    { 0x4024000000000000ULL, "10" },
    { 0x402e000000000000ULL, "15" },
    { 0x4058ffffffffffffULL, "99.99999999999999" },
    { 0x4028b0fcd32f707aULL, "12.345678901234567" },
    { 0x4059000000000000ULL, "100" },
    { 0x4062c00000000000ULL, "150" },
    { 0x408f3ffffffffffeULL, "999.9999999999998" },
    { 0x405edd3c07fb4c98ULL, "123.45678901234567" },
    { 0x408f400000000000ULL, "1000" },
    { 0x4097700000000000ULL, "1500" },
    { 0x40c387ffffffffffULL, "9999.999999999998" },
    { 0x40934a4584fd0fdfULL, "1234.5678901234567" },
    { 0x40c3880000000000ULL, "10000" },
    { 0x40cd4c0000000000ULL, "15000" },
    { 0x40f869ffffffffffULL, "99999.99999999999" },
    { 0x40c81cd6e63c53d7ULL, "12345.678901234567" },
    { 0x40f86a0000000000ULL, "100000" },
    { 0x41024f8000000000ULL, "150000" },
    { 0x412e847ffffffffeULL, "999999.9999999998" },
    { 0x40fe240c9fcb68cdULL, "123456.78901234567" },
    { 0x412e848000000000ULL, "1000000" },
    { 0x4136e36000000000ULL, "1500000" },
    { 0x416312cfffffffffULL, "9999999.999999998" },
    { 0x4132d687e3df2180ULL, "1234567.8901234567" },
    { 0x416312d000000000ULL, "10000000" },
    { 0x416c9c3800000000ULL, "15000000" },
    { 0x4197d783ffffffffULL, "99999999.99999999" },
    { 0x41678c29dcd6e9e0ULL, "12345678.901234567" },
    { 0x4197d78400000000ULL, "100000000" },
    { 0x41a1e1a300000000ULL, "150000000" },
    { 0x41cdcd64ffffffffULL, "999999999.9999999" },
    { 0x419d6f34540ca458ULL, "123456789.01234567" },
    { 0x41cdcd6500000000ULL, "1000000000" },
    { 0x41d65a0bc0000000ULL, "1500000000" },
    { 0x4202a05f1fffffffULL, "9999999999.999998" },
    { 0x41d26580b487e6b7ULL, "1234567890.1234567" },
    { 0x4202a05f20000000ULL, "10000000000" },
    { 0x420bf08eb0000000ULL, "15000000000" },
    { 0x42374876e7ffffffULL, "99999999999.99998" },
    { 0x4206fee0e1a9e065ULL, "12345678901.234568" },
    { 0x42374876e8000000ULL, "100000000000" },
    { 0x424176592e000000ULL, "150000000000" },
    { 0x426d1a94a1ffffffULL, "999999999999.9999" },
    { 0x423cbe991a14587eULL, "123456789012.34567" },
    { 0x426d1a94a2000000ULL, "1000000000000" },
    { 0x4275d3ef79800000ULL, "1500000000000" },
    { 0x42a2309ce53fffffULL, "9999999999999.998" },
    { 0x4271f71fb04cb74fULL, "1234567890123.4568" },
    { 0x42a2309ce5400000ULL, "10000000000000" },
    { 0x42ab48eb57e00000ULL, "15000000000000" },
    { 0x42d6bcc41e8fffffULL, "99999999999999.98" },
    { 0x42a674e79c5fe522ULL, "12345678901234.566" },
    { 0x42d6bcc41e900000ULL, "100000000000000" },
    { 0x42e10d9316ec0000ULL, "150000000000000" },
    { 0x430c6bf52633ffffULL, "999999999999999.9" },
    { 0x42dc12218377de6bULL, "123456789012345.67" },
    { 0x430c6bf526340000ULL, "1000000000000000" },
    { 0x431550f7dca70000ULL, "1500000000000000" },
    { 0x4341c37937e07fffULL, "9999999999999998" },
    { 0x43118b54f22aeb03ULL, "1234567890123456.8" },
    { 0x4341c37937e08000ULL, "10000000000000000" },
    { 0x434aa535d3d0c000ULL, "15000000000000000" },
    { 0x4376345785d89fffULL, "99999999999999980" },
    { 0x4345ee2a2eb5a5c3ULL, "12345678901234566" },
    { 0x4376345785d8a000ULL, "100000000000000000" },
    { 0x4380a741a4627800ULL, "150000000000000000" },
    { 0x43abc16d674ec7ffULL, "999999999999999900" },
    { 0x437b69b4ba630f34ULL, "123456789012345660" },
    { 0x43abc16d674ec800ULL, "1000000000000000000" },
    { 0x43b4d1120d7b1600ULL, "1500000000000000000" },
    { 0x43e158e460913cffULL, "9999999999999998000" },
    { 0x43b12210f47de981ULL, "1234567890123456800" },
    { 0x43e158e460913d00ULL, "10000000000000000000" },
    { 0x43ea055690d9db80ULL, "15000000000000000000" },
    { 0x4415af1d78b58c3fULL, "99999999999999980000" },
    { 0x43e56a95319d63e1ULL, "12345678901234567000" },
    { 0x4415af1d78b58c40ULL, "100000000000000000000" },
    { 0x442043561a882930ULL, "150000000000000000000" },
    { 0x444b1ae4d6e2ef4fULL, "999999999999999900000" },
    { 0x441ac53a7e04bcd9ULL, "123456789012345670000" },
    { 0x444b1ae4d6e2ef50ULL, "1e+21" },
    { 0x4454542ba12a337cULL, "1.5e+21" },
    { 0x4480f0cf064dd591ULL, "9.999999999999998e+21" },
    { 0x4450bb448ec2f608ULL, "1.2345678901234568e+21" },
    { 0x4480f0cf064dd592ULL, "1e+22" },
    { 0x448969368974c05bULL, "1.5e+22" },
    { 0x44b52d02c7e14af5ULL, "9.999999999999997e+22" },
    { 0x4484ea15b273b38aULL, "1.2345678901234568e+22" },
    { 0x44b52d02c7e14af7ULL, "1.0000000000000001e+23" },
    { 0x44bfc3842bd1f072ULL, "1.5e+23" },
    { 0x44ea784379d99db3ULL, "9.999999999999998e+23" },
    { 0x44ba249b1f10a06dULL, "1.2345678901234569e+23" },
    { 0x43ac339d8a7f6d28ULL, "1016070537521566700" },
    { 0xc397aa3777852136ULL, "-426309098846834050" },
    { 0x438763652e94fda9ULL, "210662742038656300" },
    { 0x43a6dce0354f367bULL, "823719041638809000" },
    { 0x43a3a9f95f03a439ULL, "708468872131517600" },
    { 0xc38dd917520edd0eULL, "-268846992281280960" },
    { 0x43776d238c6d28adULL, "105502782585473740" },
    { 0x4392af4f04ee54d4ULL, "336595424051016960" },
    { 0x43ab16547a79ffe4ULL, "975920186760622600" },
    { 0xc3901f2dea0c7c99ULL, "-290424428034991700" },
    { 0xc39fadb3a08016fbULL, "-570669522017959600" },
    { 0xc3a995c78f7e1147ULL, "-921799520793699200" },
    { 0xc397ade63024dc58ULL, "-426568232073631200" },
    { 0xc3ae96c41d007d69ULL, "-1102082348242875500" },
    { 0x43ace3d78cf217c8ULL, "1040872226566169600" },
    { 0x439ce2fbd265500bULL, "520375714715009700" },
    { 0xc3abc31e9fe0cd40ULL, "-1000238165751406600" },
    { 0xc3af229dbc97ecdcULL, "-1121764498856111600" },
    { 0xc3a70af31bca5998ULL, "-830203356661992400" },
    { 0xc3a449734e081000ULL, "-730913166519173100" },
    { 0x444b1ae4d6e2ef4eULL, "999999999999999700000" },
    { 0x3fc999999999999aULL, "0.2" },
    { 0x3fd3333333333334ULL, "0.30000000000000004" },
    { 0x00002e055c9a3f6cULL, "2.5e-310" },
    { 0x433fffffffffffffULL, "9007199254740991" },
    { 0x4340000000000001ULL, "9007199254740994" },
    { 0x441ac53a7e04bcdaULL, "123456789012345680000" },
};

/*
 * Every byte value at every position of a long string: the parser scans
 * plain runs eight bytes at a time, and must still stop at each byte that
 * is not plain (a control byte, a lone byte >= 0x80, '"', '\\').
 */
static void
test_jcs_string_every_byte_every_position(void **state)
{
    (void)state;
    char text[64], em[PC_ERRMSG_SIZE];

    for (int c = 1; c < 256; c++) {
        for (size_t at = 0; at < 24; at++) {
            struct jcs_doc *d = NULL;
            const char *got;
            size_t len;
            int rc;

            memset(text, 'a', 26);
            text[0] = '"';
            text[1 + at] = (char)c;
            text[25] = '"';
            rc = jcs_parse(text, 26, &d, em);
            if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                assert_int_equal(rc, PC_OK);
                got = jcs_string(jcs_root(d), &len);
                assert_int_equal(len, 24);
                assert_memory_equal(got, text + 1, 24);
                jcs_doc_free(d);
            } else {
                /* refused: control, invalid UTF-8, early end, bad escape */
                assert_int_not_equal(rc, PC_OK);
            }
        }
    }
}

/* The RFC 8785 appendix B table formats exactly and parses back. */
static void
test_jcs_rfc_number_table(void **state)
{
    char out[JCS_NUMBER_SIZE];

    (void)state;
    for (size_t i = 0; i < sizeof(rfc_numbers) / sizeof(rfc_numbers[0]); i++) {
        double v = from_bits(rfc_numbers[i].bits);
        size_t n = jcs_format_double(v, out);

        assert_string_equal(out, rfc_numbers[i].text);
        assert_int_equal(n, strlen(rfc_numbers[i].text));
        expect_canon(rfc_numbers[i].text, rfc_numbers[i].text);
    }
    /* NaN and the infinities have no JSON form. */
    assert_int_equal(jcs_format_double(from_bits(0x7fffffffffffffffULL), out),
                     0);
    assert_int_equal(jcs_format_double(from_bits(0x7ff0000000000000ULL), out),
                     0);
    assert_int_equal(jcs_format_double(-INFINITY, out), 0);
    assert_string_equal(out, "");
}

/* Formatting agrees with an independent implementation on 249 doubles. */
static void
test_jcs_number_oracle(void **state)
{
    char out[JCS_NUMBER_SIZE];

    (void)state;
    for (size_t i = 0; i < sizeof(oracle_numbers) / sizeof(oracle_numbers[0]);
         i++) {
        jcs_format_double(from_bits(oracle_numbers[i].bits), out);
        assert_string_equal(out, oracle_numbers[i].text);
    }
}

/* Significant digits of a formatted number (mantissa, no outer zeros). */
static int
significant_digits(const char *s)
{
    char dig[40];
    int n = 0, a = 0;

    for (; *s != '\0' && *s != 'e'; s++) {
        if (*s >= '0' && *s <= '9') {
            dig[n++] = *s;
        }
    }
    while (a < n && dig[a] == '0') {
        a++;
    }
    while (n > a && dig[n - 1] == '0') {
        n--;
    }
    return n - a;
}

/*
 * Random doubles round-trip through their text, which has the fewest
 * digits that do (found by linear search here) and the ECMAScript shape.
 */
static void
test_jcs_number_random_shortest(void **state)
{
    uint64_t seed = test_seed(), rng = seed;
    char out[JCS_NUMBER_SIZE], buf[48];

    (void)state;
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = test_rand(&rng);
        double v;
        int p;

        if (i % 4 == 1) {
            bits &= 0xc3ffffffffffffffULL; /* exponents near 1 */
        } else if (i % 4 == 2) {
            bits = (uint64_t)(test_rand(&rng) % 100000000);
            memcpy(&v, &(double){ (double)bits / 1000.0 }, sizeof(v));
            memcpy(&bits, &v, sizeof(bits));
        }
        v = from_bits(bits);
        if (!isfinite(v)) {
            continue;
        }
        jcs_format_double(v, out);
        for (p = 1; p < 17; p++) {
            snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
            if (strtod(buf, NULL) == v) {
                break;
            }
        }
        if (strtod(out, NULL) != v ||
            (v != 0 && significant_digits(out) != p) ||
            strspn(out, "-0123456789.e+") != strlen(out) ||
            (strchr(out, 'e') == NULL && fabs(v) >= 1e21) ||
            (strchr(out, 'e') != NULL && fabs(v) >= 1e-6 && fabs(v) < 1e21)) {
            test_seed_note(__func__, seed);
            fail_msg("bits %016llx: got %s, shortest has %d digits",
                     (unsigned long long)bits, out, p);
        }
    }
}

/*
 * Short tokens take a fast path that formats the token's own digits; it
 * must agree with formatting the parsed double.
 */
static void
test_jcs_number_token_path(void **state)
{
    uint64_t seed = test_seed(), rng = seed;
    char tok[64], want[JCS_NUMBER_SIZE];
    struct pc_buf b;

    (void)state;
    pc_buf_init(&b);
    for (int i = 0; i < 20000; i++) {
        unsigned long long m = test_rand(&rng) % 1000000000000000ULL;
        int digits = (int)(test_rand(&rng) % 16);
        int e = (int)(test_rand(&rng) % 640) - 330;
        const char *sign = test_rand(&rng) % 2 ? "-" : "";
        char msg[PC_ERRMSG_SIZE];
        double v;

        for (int d = digits; d < 15; d++) {
            m /= 10;
        }
        switch (i % 4) {
        case 0:
            snprintf(tok, sizeof(tok), "%s%llue%d", sign, m, e);
            break;
        case 1:
            snprintf(tok, sizeof(tok), "%s%llu.%03de%d", sign, m / 1000,
                     (int)(m % 1000), e % 40);
            break;
        case 2:
            snprintf(tok, sizeof(tok), "%s0.%015llu", sign, m);
            break;
        default:
            snprintf(tok, sizeof(tok), "%s%llu", sign, m);
            break;
        }
        v = strtod(tok, NULL);
        b.len = 0;
        if (!isfinite(v)) {
            assert_int_equal(jcs_canonicalize(tok, strlen(tok), &b, msg),
                             PC_EINVAL);
            continue;
        }
        if (jcs_canonicalize(tok, strlen(tok), &b, msg) != PC_OK) {
            test_seed_note(__func__, seed);
            fail_msg("%s: %s", tok, msg);
        }
        jcs_format_double(v, want);
        if (b.len != strlen(want) || memcmp(b.data, want, b.len) != 0) {
            test_seed_note(__func__, seed);
            fail_msg("%s: got %.*s want %s", tok, (int)b.len,
                     (const char *)b.data, want);
        }
    }
    pc_buf_release(&b);
}

/* Number spellings from the input never survive into the output. */
static void
test_jcs_number_spellings(void **state)
{
    (void)state;
    expect_canon("-0", "0");
    expect_canon("-0.0e-5", "0");
    expect_canon("1E2", "100");
    expect_canon("1e+2", "100");
    expect_canon("100e-2", "1");
    expect_canon("0.10", "0.1");
    expect_canon("4.50", "4.5");
    expect_canon("1e21", "1e+21");
    expect_canon("1e20", "100000000000000000000");
    expect_canon("0.0000001", "1e-7");
    expect_canon("0.000001", "0.000001");
    expect_canon("123456789012345678901234567890", "1.2345678901234568e+29");
    expect_canon("1e-400", "0");
    expect_canon("2e-324", "0");
    expect_canon("2.5e-324", "5e-324");
    expect_canon("9007199254740993", "9007199254740992");
    expect_canon("0.1e1", "1");
    expect_canon("[1.5,-2,3e-2]", "[1.5,-2,0.03]");
}

/* RFC 8785 section 3.2.2: the sample object. */
static void
test_jcs_rfc_sample(void **state)
{
    (void)state;
    expect_canon(
        "{\n  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, "
        "0.000000000000000000000000001],\n"
        "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c"
        "\\\\\\\"\\/\",\n"
        "  \"literals\": [null, true, false]\n}",
        "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,"
        "1e+30,4.5,0.002,1e-27],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B"
        "\\\"\\\\\\\\\\\"/\"}");
}

/* RFC 8785 section 3.2.3: members sort by UTF-16 code units. */
static void
test_jcs_rfc_sort(void **state)
{
    static const char *in =
        "{\n"
        "  \"\\u20ac\": \"Euro Sign\",\n"
        "  \"\\r\": \"Carriage Return\",\n"
        "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n"
        "  \"1\": \"One\",\n"
        "  \"\\ud83d\\ude00\": \"Emoji: Grinning Face\",\n"
        "  \"\\u0080\": \"Control\",\n"
        "  \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"\n"
        "}";
    static const char *order[] = {
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    };
    struct jcs_doc *d;
    char msg[PC_ERRMSG_SIZE];

    (void)state;
    assert_int_equal(jcs_parse(in, strlen(in), &d, msg), PC_OK);
    assert_int_equal(jcs_len(jcs_root(d)), 7);
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(jcs_string(jcs_at(jcs_root(d), i), NULL), order[i]);
    }
    jcs_doc_free(d);
    expect_canon(in, "{\"\\r\":\"Carriage Return\",\"1\":\"One\","
                     "\"\xc2\x80\":\"Control\","
                     "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
                     "\"\xe2\x82\xac\":\"Euro Sign\","
                     "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
                     "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

/* Strings keep only the escapes JCS requires, in lower-case hex. */
static void
test_jcs_string_escapes(void **state)
{
    (void)state;
    expect_canon("\"\\u0000\\u001F\\b\\t\\n\\f\\r\\u000b\\\"\\\\\\/"
                 "\\u2028\\u00E9\\uD83D\\uDE00\\u0041\\u007f\"",
                 "\"\\u0000\\u001f\\b\\t\\n\\f\\r\\u000b\\\"\\\\/"
                 "\xe2\x80\xa8\xc3\xa9\xf0\x9f\x98\x80"
                 "A\x7f\"");
    expect_canon("\"\xe2\x80\xa8\xf4\x8f\xbf\xbf\"",
                 "\"\xe2\x80\xa8\xf4\x8f\xbf\xbf\"");
    expect_canon(" [ \"a\" , { \"b\" : [ ] } ]\r\n\t", "[\"a\",{\"b\":[]}]");
    expect_canon("\"\"", "\"\"");
    expect_canon("{}", "{}");
    expect_canon("true", "true");
}

/* Each rejection class is PC_EINVAL naming the problem and its offset. */
static void
test_jcs_rejects_with_message(void **state)
{
    static const struct {
        const char *in;
        const char *msg;
    } cases[] = {
        { "", "unexpected end of input at byte 0" },
        { "  ", "unexpected end of input at byte 2" },
        { "\xef\xbb\xbf{}", "byte order mark at byte 0" },
        { "{\"a\":1,\"b\":2,\"a\":3}", "duplicate key \"a\" at byte 13" },
        { "{\"a\":1,\"\\u0061\":2}", "duplicate key \"a\" at byte 7" },
        { "{\"b\":1,\"a\":1,\"b\":2,\"a\":3}",
          "duplicate key \"b\" at byte 13" },
        { "{\"x\":{\"\\n\\\"\":1,\"\\n\\\"\":2}}",
          "duplicate key \"\\u000a\\u0022\" at byte 15" },
        { "[1,2] x", "trailing data at byte 6" },
        { "{} {}", "trailing data at byte 3" },
        { "[1,]", "unexpected character ']' at byte 3" },
        { "[1 2]", "expected ',' or ']' at byte 3" },
        { "[1", "unexpected end of input at byte 2" },
        { "{\"a\" 1}", "expected ':' at byte 5" },
        { "{\"a\":1 \"b\":2}", "expected ',' or '}' at byte 7" },
        { "{1:2}", "expected string key at byte 1" },
        { "{\"a\":1,}", "expected string key at byte 7" },
        { "\"\\ud800\"", "lone surrogate \\ud800 at byte 1" },
        { "\"\\udc00\"", "lone surrogate \\udc00 at byte 1" },
        { "\"a\\uD800\\u0041\"", "lone surrogate \\ud800 at byte 2" },
        { "\"\\ud800\\ud800\"", "lone surrogate \\ud800 at byte 1" },
        { "\"\\ud800\"", "lone surrogate \\ud800 at byte 1" },
        { "\"\xc0\xaf\"", "invalid utf-8 at byte 1" },
        { "\"\xe0\x80\xaf\"", "invalid utf-8 at byte 1" },
        { "\"ab\xed\xa0\x80\"", "invalid utf-8 at byte 3" },
        { "\"\xf4\x90\x80\x80\"", "invalid utf-8 at byte 1" },
        { "\"\xe2\x82\"", "invalid utf-8 at byte 1" },
        { "\"\x80\"", "invalid utf-8 at byte 1" },
        { "\"a\nb\"", "control character 0x0a in string at byte 2" },
        { "\"\\x\"", "invalid escape at byte 1" },
        { "\"\\u12g4\"", "invalid \\u escape at byte 1" },
        { "\"\\u12\"", "invalid \\u escape at byte 1" },
        { "\"abc", "unterminated string at byte 0" },
        { "\"abc\\\"", "unterminated string at byte 0" },
        { "1e400", "number overflows a double at byte 0" },
        { "[-1.8e308]", "number overflows a double at byte 1" },
        { "01", "leading zero in number at byte 0" },
        { "-01", "leading zero in number at byte 0" },
        { "1.", "invalid number at byte 0" },
        { "1.e5", "invalid number at byte 0" },
        { "-", "invalid number at byte 0" },
        { "1e", "invalid number at byte 0" },
        { "1e+", "invalid number at byte 0" },
        { ".5", "unexpected character '.' at byte 0" },
        { "+1", "unexpected character '+' at byte 0" },
        { "NaN", "unexpected character 'N' at byte 0" },
        { "[Infinity]", "unexpected character 'I' at byte 1" },
        { "tru", "invalid literal at byte 0" },
        { "nulL", "invalid literal at byte 0" },
        { "[\xc3\xa9]", "unexpected byte 0xc3 at byte 1" },
        { "[\x0c]", "unexpected byte 0x0c at byte 1" },
        { "'a'", "unexpected character ''' at byte 0" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_reject(cases[i].in, strlen(cases[i].in), cases[i].msg);
    }
    /* NUL is data inside strings and garbage outside them. */
    expect_reject("{}\0", 3, "trailing data at byte 2");
    expect_reject("[\0]", 3, "unexpected byte 0x00 at byte 1");
    expect_reject("\"\0\"", 3, "control character 0x00 in string at byte 1");
}

/* Text of `n` nested containers: arrays, or objects with key "k". */
static char *
nested(int n, bool objects)
{
    struct pc_buf b;

    pc_buf_init(&b);
    for (int i = 0; i < n; i++) {
        assert_int_equal(pc_buf_printf(&b, "%s", objects ? "{\"k\":" : "["),
                         PC_OK);
    }
    assert_int_equal(pc_buf_printf(&b, "0"), PC_OK);
    for (int i = 0; i < n; i++) {
        assert_int_equal(pc_buf_put_u8(&b, objects ? '}' : ']'), PC_OK);
    }
    assert_int_equal(pc_buf_put_u8(&b, 0), PC_OK);
    return (char *)pc_buf_detach(&b, NULL);
}

/* Nesting of exactly 64 containers is accepted and 65 refused. */
static void
test_jcs_depth_limit(void **state)
{
    struct pc_buf out;
    char msg[PC_ERRMSG_SIZE];
    char *t;

    (void)state;
    pc_buf_init(&out);
    for (int objects = 0; objects < 2; objects++) {
        t = nested(JCS_MAX_DEPTH, objects);
        out.len = 0;
        assert_int_equal(jcs_canonicalize(t, strlen(t), &out, msg), PC_OK);
        assert_int_equal(out.len, strlen(t));
        assert_memory_equal(out.data, t, out.len);
        pc_free(t);

        t = nested(JCS_MAX_DEPTH + 1, objects);
        expect_reject(t, strlen(t),
                      objects ? "nesting deeper than 64 at byte 320"
                              : "nesting deeper than 64 at byte 64");
        pc_free(t);
    }
    pc_buf_release(&out);
}

/* 100000 values are accepted and the 100001st refused where it starts. */
static void
test_jcs_value_limit(void **state)
{
    struct pc_buf b, out;
    char msg[PC_ERRMSG_SIZE];

    (void)state;
    pc_buf_init(&b);
    pc_buf_init(&out);
    assert_int_equal(pc_buf_put_u8(&b, '['), PC_OK);
    for (int i = 0; i < JCS_MAX_VALUES - 1; i++) {
        assert_int_equal(pc_buf_put(&b, i ? ",0" : "0", i ? 2 : 1), PC_OK);
    }
    assert_int_equal(pc_buf_put_u8(&b, ']'), PC_OK);
    assert_int_equal(jcs_canonicalize((char *)b.data, b.len, &out, msg), PC_OK);
    assert_int_equal(out.len, b.len);

    b.len--;
    assert_int_equal(pc_buf_put(&b, ",0]", 3), PC_OK);
    expect_reject((char *)b.data, b.len,
                  "more than 100000 values at byte 199999");
    pc_buf_release(&b);
    pc_buf_release(&out);
}

/* Accessors see types, values, members in canonical order, lookups. */
static void
test_jcs_accessors(void **state)
{
    static const char in[] =
        "{\"name\":\"x\\u0000y\",\"n\":42,\"f\":1.5,\"big\":9007199254740992,"
        "\"max\":9007199254740991,\"min\":-9007199254740991,\"neg\":-0,"
        "\"arr\":[1,\"two\",null,true,false],\"obj\":{},"
        "\"\\ue000\":1,\"\\ud83d\\ude00\":2}";
    static const char *keys[] = {
        "arr",         "big",  "f",   "max", "min",
        "n",           "name", "neg", "obj", "\xf0\x9f\x98\x80",
        "\xee\x80\x80"
    };
    struct jcs_doc *d;
    const struct jcs_val *r, *v, *arr;
    char msg[PC_ERRMSG_SIZE];
    size_t len;

    (void)state;
    assert_int_equal(jcs_parse(in, sizeof(in) - 1, &d, msg), PC_OK);
    r = jcs_root(d);
    assert_int_equal(jcs_type(r), JCS_OBJECT);
    assert_int_equal(jcs_len(r), 11);
    for (size_t i = 0; i < 11; i++) {
        const char *k = jcs_key(r, i, &len);

        assert_string_equal(k, keys[i]);
        assert_int_equal(len, strlen(keys[i]));
        assert_ptr_equal(jcs_get(r, k, len), jcs_at(r, i));
    }
    assert_null(jcs_key(r, 11, &len));
    assert_null(jcs_at(r, 11));
    assert_null(jcs_get(r, "missing", 7));
    assert_null(jcs_get(r, "nam", 3));

    v = jcs_get(r, "name", 4);
    assert_int_equal(jcs_type(v), JCS_STRING);
    assert_memory_equal(jcs_string(v, &len), "x\0y", 4);
    assert_int_equal(len, 3);
    assert_false(jcs_is_integer(v));
    assert_null(jcs_get(v, "x", 1));

    v = jcs_get(r, "n", 1);
    assert_true(jcs_number(v) == 42);
    assert_true(jcs_is_integer(v));
    assert_null(jcs_string(v, &len));
    assert_false(jcs_is_integer(jcs_get(r, "f", 1)));
    assert_true(jcs_is_int_literal(jcs_get(r, "n", 1)));
    assert_false(jcs_is_int_literal(jcs_get(r, "f", 1)));
    assert_true(jcs_is_int_literal(jcs_get(r, "neg", 3)));
    assert_false(jcs_is_int_literal(jcs_get(r, "name", 4)));
    assert_true(jcs_has_nul(d));
    assert_false(jcs_is_integer(jcs_get(r, "big", 3)));
    assert_true(jcs_is_integer(jcs_get(r, "max", 3)));
    assert_true(jcs_is_integer(jcs_get(r, "min", 3)));
    v = jcs_get(r, "neg", 3);
    assert_true(jcs_is_integer(v));
    assert_true(signbit(jcs_number(v)));
    assert_true(jcs_number(jcs_get(r, "\xee\x80\x80", 3)) == 1);
    assert_true(jcs_number(jcs_get(r, "\xf0\x9f\x98\x80", 4)) == 2);

    arr = jcs_get(r, "arr", 3);
    assert_int_equal(jcs_type(arr), JCS_ARRAY);
    assert_int_equal(jcs_len(arr), 5);
    assert_string_equal(jcs_string(jcs_at(arr, 1), NULL), "two");
    assert_int_equal(jcs_type(jcs_at(arr, 2)), JCS_NULL);
    assert_int_equal(jcs_type(jcs_at(arr, 3)), JCS_TRUE);
    assert_int_equal(jcs_type(jcs_at(arr, 4)), JCS_FALSE);
    assert_null(jcs_at(arr, 5));
    assert_null(jcs_get(arr, "arr", 3));
    assert_null(jcs_key(arr, 0, NULL));
    assert_int_equal(jcs_len(jcs_at(arr, 0)), 0);
    assert_true(jcs_number(jcs_at(arr, 1)) == 0);
    assert_int_equal(jcs_len(jcs_get(r, "obj", 3)), 0);
    jcs_doc_free(d);
    jcs_doc_free(NULL);
}

/* Integer literals are told from numbers written with a fraction or an
 * exponent of the same value; U+0000 is noticed in keys and values. */
static void
test_jcs_literals_and_nul(void **state)
{
    static const struct {
        const char *text;
        bool literal;
    } nums[] = {
        { "2", true },     { "-2", true },
        { "0", true },     { "-0", true },
        { "2.0", false },  { "2e0", false },
        { "2E+0", false }, { "20e-1", false },
        { "0.5", false },  { "12345678901234567890", true },
    };
    static const struct {
        const char *text;
        bool nul;
    } docs[] = {
        { "{\"a\":\"b\"}", false },
        { "{\"a\":\"\\u0001\\n\"}", false },
        { "{\"a\":\"x\\u0000\"}", true },
        { "{\"\\u0000\":1}", true },
        { "[[\"\\u0000\"]]", true },
        { "\"\\\\u0000\"", false }, /* a backslash, then u0000 */
    };
    struct jcs_doc *d;

    (void)state;
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        assert_int_equal(
            jcs_parse(nums[i].text, strlen(nums[i].text), &d, NULL), PC_OK);
        if (jcs_is_int_literal(jcs_root(d)) != nums[i].literal) {
            fail_msg("%s: literal %d", nums[i].text, !nums[i].literal);
        }
        assert_false(jcs_has_nul(d));
        jcs_doc_free(d);
    }
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        assert_int_equal(
            jcs_parse(docs[i].text, strlen(docs[i].text), &d, NULL), PC_OK);
        if (jcs_has_nul(d) != docs[i].nul) {
            fail_msg("%s: has_nul %d", docs[i].text, !docs[i].nul);
        }
        jcs_doc_free(d);
    }
}

/* jcs_emit appends to what the buffer already holds. */
static void
test_jcs_emit_appends(void **state)
{
    static const char in[] = "{\"b\":[],\"a\":0.5}";
    struct jcs_doc *d;
    struct pc_buf b;
    char msg[PC_ERRMSG_SIZE];

    (void)state;
    pc_buf_init(&b);
    assert_int_equal(pc_buf_put(&b, "H:", 2), PC_OK);
    assert_int_equal(jcs_parse(in, sizeof(in) - 1, &d, msg), PC_OK);
    assert_int_equal(jcs_emit(d, &b), PC_OK);
    assert_int_equal(jcs_emit(d, &b), PC_OK);
    assert_int_equal(b.len, 2 + 2 * 16);
    assert_memory_equal(b.data, "H:{\"a\":0.5,\"b\":[]}{\"a\":0.5,\"b\":[]}",
                        b.len);
    jcs_doc_free(d);
    pc_buf_release(&b);
}

/* The validator follows Unicode table 3-7 exactly. */
static void
test_jcs_utf8_validator(void **state)
{
    static const char *good[] = { "",
                                  "abc",
                                  "\xc2\x80",
                                  "\xdf\xbf",
                                  "\xe0\xa0\x80",
                                  "\xed\x9f\xbf",
                                  "\xee\x80\x80",
                                  "\xef\xbf\xbf",
                                  "\xf0\x90\x80\x80",
                                  "\xf4\x8f\xbf\xbf" };
    static const char *bad[] = { "\x80",
                                 "\xbf",
                                 "\xc0\x80",
                                 "\xc1\xbf",
                                 "\xc2",
                                 "\xc2\x41",
                                 "\xe0\x9f\xbf",
                                 "\xed\xa0\x80",
                                 "\xed\xbf\xbf",
                                 "\xe2\x82",
                                 "\xf0\x8f\xbf\xbf",
                                 "\xf4\x90\x80\x80",
                                 "\xf5\x80\x80\x80",
                                 "\xf8\x88\x80\x80\x80",
                                 "\xff",
                                 "a\xfe" };

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_true(jcs_utf8_valid((const uint8_t *)good[i], strlen(good[i])));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(jcs_utf8_valid((const uint8_t *)bad[i], strlen(bad[i])));
    }
    assert_true(jcs_utf8_valid((const uint8_t *)"a\0b", 3));
}

/* ---- random documents ------------------------------------------------ */

struct gen {
    uint64_t rng;
    struct pc_buf *b;
};

static uint64_t
rnd(struct gen *g, uint64_t n)
{
    return test_rand(&g->rng) % n;
}

static void emit(struct gen *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
emit(struct gen *g, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && n < (int)sizeof(tmp));
    assert_int_equal(pc_buf_put(g->b, tmp, (size_t)n), PC_OK);
}

/* A \u escape in either case of hex digits. */
static void
emit_u(struct gen *g, bool upper, uint32_t unit)
{
    if (upper) {
        emit(g, "\\u%04X", unit);
    } else {
        emit(g, "\\u%04x", unit);
    }
}

static void
gen_ws(struct gen *g)
{
    if (rnd(g, 4) == 0) {
        for (uint64_t n = rnd(g, 3) + 1; n > 0; n--) {
            emit(g, "%c", " \t\n\r"[rnd(g, 4)]);
        }
    }
}

static size_t
utf8_put(uint8_t *w, uint32_t cp)
{
    if (cp < 0x80) {
        w[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        w[0] = (uint8_t)(0xc0 | cp >> 6);
        w[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        w[0] = (uint8_t)(0xe0 | cp >> 12);
        w[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        w[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    w[0] = (uint8_t)(0xf0 | cp >> 18);
    w[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    w[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    w[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

static uint32_t
gen_cp(struct gen *g)
{
    uint32_t c;

    switch (rnd(g, 8)) {
    case 0:
        return (uint32_t)rnd(g, 0x20);
    case 1:
        return (uint32_t) "\"\\/"[rnd(g, 3)];
    case 2:
        return 0x80 + (uint32_t)rnd(g, 0x780);
    case 3:
        c = 0x800 + (uint32_t)rnd(g, 0xf800);
        return c >= 0xd800 && c < 0xe000 ? c + 0x800 : c;
    case 4:
        return 0xe000 + (uint32_t)rnd(g, 0x2000);
    case 5:
        return 0x10000 + (uint32_t)rnd(g, 0x100000);
    default:
        return 'a' + (uint32_t)rnd(g, 3);
    }
}

/* A string of random code points, escaped at random; raw bytes to `raw`. */
static void
gen_string(struct gen *g, uint8_t raw[64], size_t *raw_len)
{
    static const char shorts[] = "\b\bt\tn\nf\fr\r";
    size_t n = rnd(g, 6), r = 0;

    emit(g, "\"");
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = gen_cp(g);
        bool upper = rnd(g, 2);
        const char *s = cp != 0 && cp < 0x20 ? strchr(shorts, (int)cp) : NULL;

        r += utf8_put(raw + r, cp);
        if (cp == '"' || cp == '\\') {
            emit(g, "\\%c", (char)cp);
        } else if (s != NULL && (s - shorts) % 2 == 1 && rnd(g, 2)) {
            emit(g, "\\%c", s[-1]);
        } else if (cp < 0x20 || rnd(g, 4) == 0) {
            if (cp >= 0x10000) {
                emit_u(g, upper, 0xd800 + ((cp - 0x10000) >> 10));
                emit_u(g, upper, 0xdc00 + ((cp - 0x10000) & 0x3ff));
            } else {
                emit_u(g, upper, cp);
            }
        } else if (cp == '/' && rnd(g, 2)) {
            emit(g, "\\/");
        } else {
            uint8_t u[4];
            size_t k = utf8_put(u, cp);

            assert_int_equal(pc_buf_put(g->b, u, k), PC_OK);
        }
    }
    emit(g, "\"");
    *raw_len = r;
}

static void
gen_number(struct gen *g)
{
    double d;
    uint64_t bits;
    int e;

    switch (rnd(g, 6)) {
    case 0:
        emit(g, "%lld", (long long)rnd(g, 2000001) - 1000000);
        break;
    case 1:
        do {
            bits = test_rand(&g->rng);
            memcpy(&d, &bits, sizeof(d));
        } while (!isfinite(d));
        emit(g, "%.17g", d);
        break;
    case 2:
        emit(g, "%s%llu.%03llu", rnd(g, 2) ? "-" : "",
             (unsigned long long)rnd(g, 100000),
             (unsigned long long)rnd(g, 1000));
        break;
    case 3:
        e = (int)rnd(g, 61) - 30;
        emit(g, "%llu%c%s%d", (unsigned long long)rnd(g, 1000000),
             rnd(g, 2) ? 'e' : 'E', e >= 0 && rnd(g, 2) ? "+" : "", e);
        break;
    case 4:
        emit(g, "%s",
             (const char *[]){ "-0", "0.0", "-0.0e0", "0e5" }[rnd(g, 4)]);
        break;
    default:
        emit(g, "%.*g", (int)rnd(g, 17) + 1,
             ((double)rnd(g, 1u << 30) - (1u << 29)) / 1024.0);
        break;
    }
}

static void
gen_value(struct gen *g, int depth)
{
    uint8_t keys[8][64];
    size_t klen[8], n;

    gen_ws(g);
    switch (depth >= 5 ? rnd(g, 5) : rnd(g, 7)) {
    case 0:
        emit(g, "%s", (const char *[]){ "null", "true", "false" }[rnd(g, 3)]);
        break;
    case 1:
    case 2:
        gen_number(g);
        break;
    case 3:
    case 4:
        gen_string(g, keys[0], &klen[0]);
        break;
    case 5:
        emit(g, "[");
        n = rnd(g, 6);
        for (size_t i = 0; i < n; i++) {
            gen_value(g, depth + 1);
            emit(g, i + 1 < n ? "," : "");
        }
        gen_ws(g);
        emit(g, "]");
        break;
    default:
        emit(g, "{");
        n = rnd(g, 8);
        for (size_t i = 0; i < n; i++) {
            size_t mark = g->b->len, j;

            gen_ws(g);
            gen_string(g, keys[i], &klen[i]);
            for (j = 0; j < i; j++) {
                if (klen[j] == klen[i] &&
                    memcmp(keys[j], keys[i], klen[i]) == 0) {
                    break;
                }
            }
            if (j < i) {
                g->b->len = mark; /* a duplicate: try another key */
                i--;
                continue;
            }
            gen_ws(g);
            emit(g, ":");
            gen_value(g, depth + 1);
            emit(g, i + 1 < n ? "," : "");
        }
        gen_ws(g);
        emit(g, "}");
        break;
    }
    gen_ws(g);
}

/* UTF-16 code units of UTF-8 `s`, the order RFC 8785 sorts keys by. */
static size_t
to_utf16(const char *s, size_t len, uint16_t *out)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = 0;

    for (size_t i = 0; i < len;) {
        uint32_t cp;

        if (p[i] < 0x80) {
            cp = p[i++];
        } else if (p[i] < 0xe0) {
            cp = (uint32_t)(p[i] & 0x1f) << 6 | (p[i + 1] & 0x3f);
            i += 2;
        } else if (p[i] < 0xf0) {
            cp = (uint32_t)(p[i] & 0x0f) << 12 |
                 (uint32_t)(p[i + 1] & 0x3f) << 6 | (p[i + 2] & 0x3f);
            i += 3;
        } else {
            cp = (uint32_t)(p[i] & 0x07) << 18 |
                 (uint32_t)(p[i + 1] & 0x3f) << 12 |
                 (uint32_t)(p[i + 2] & 0x3f) << 6 | (p[i + 3] & 0x3f);
            i += 4;
        }
        if (cp >= 0x10000) {
            out[n++] = (uint16_t)(0xd800 + ((cp - 0x10000) >> 10));
            out[n++] = (uint16_t)(0xdc00 + ((cp - 0x10000) & 0x3ff));
        } else {
            out[n++] = (uint16_t)cp;
        }
    }
    return n;
}

static int
utf16_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    uint16_t ua[64], ub[64];
    size_t na = to_utf16(a, alen, ua), nb = to_utf16(b, blen, ub);

    for (size_t i = 0; i < na && i < nb; i++) {
        if (ua[i] != ub[i]) {
            return ua[i] < ub[i] ? -1 : 1;
        }
    }
    return na < nb ? -1 : na > nb;
}

/* Same content (numbers by value), keys strictly in UTF-16 order. */
static bool
same_tree(const struct jcs_val *a, const struct jcs_val *b)
{
    size_t la, lb;
    const char *sa, *sb;

    if (jcs_type(a) != jcs_type(b) || jcs_len(a) != jcs_len(b)) {
        return false;
    }
    switch (jcs_type(a)) {
    case JCS_NUMBER:
        return jcs_number(a) == jcs_number(b);
    case JCS_STRING:
        sa = jcs_string(a, &la);
        sb = jcs_string(b, &lb);
        return la == lb && memcmp(sa, sb, la) == 0;
    case JCS_ARRAY:
    case JCS_OBJECT:
        for (size_t i = 0; i < jcs_len(a); i++) {
            if (jcs_type(a) == JCS_OBJECT) {
                sa = jcs_key(a, i, &la);
                sb = jcs_key(b, i, &lb);
                if (la != lb || memcmp(sa, sb, la) != 0) {
                    return false;
                }
                if (i > 0) {
                    size_t lp;
                    const char *prev = jcs_key(a, i - 1, &lp);

                    if (utf16_cmp(prev, lp, sa, la) >= 0) {
                        return false;
                    }
                }
            }
            if (!same_tree(jcs_at(a, i), jcs_at(b, i))) {
                return false;
            }
        }
        return true;
    default:
        return true;
    }
}

/*
 * Random documents canonicalise; the result is a fixed point, valid UTF-8,
 * and parses to the same content with keys in UTF-16 order.
 */
static void
test_jcs_random_idempotent(void **state)
{
    uint64_t seed = test_seed();
    struct gen g = { .rng = seed };
    struct pc_buf in, c1, c2;
    char msg[PC_ERRMSG_SIZE];

    (void)state;
    pc_buf_init(&in);
    pc_buf_init(&c1);
    pc_buf_init(&c2);
    g.b = &in;
    for (int i = 0; i < 3000; i++) {
        struct jcs_doc *d1, *d2;
        bool same;

        in.len = c1.len = c2.len = 0;
        gen_value(&g, 0);
        if (jcs_parse((char *)in.data, in.len, &d1, msg) != PC_OK) {
            test_seed_note(__func__, seed);
            fail_msg("doc %d: %s: %.*s", i, msg, (int)in.len, in.data);
        }
        assert_int_equal(jcs_emit(d1, &c1), PC_OK);
        assert_int_equal(jcs_parse((char *)c1.data, c1.len, &d2, msg), PC_OK);
        assert_int_equal(jcs_emit(d2, &c2), PC_OK);
        same = same_tree(jcs_root(d1), jcs_root(d2));
        jcs_doc_free(d1);
        jcs_doc_free(d2);
        if (!same || c1.len != c2.len ||
            memcmp(c1.data, c2.data, c1.len) != 0 ||
            !jcs_utf8_valid(c1.data, c1.len)) {
            test_seed_note(__func__, seed);
            fail_msg("doc %d: %.*s\n -> %.*s\n -> %.*s", i, (int)in.len,
                     in.data, (int)c1.len, c1.data, (int)c2.len, c2.data);
        }
    }
    pc_buf_release(&in);
    pc_buf_release(&c1);
    pc_buf_release(&c2);
}

/*
 * A document that needs every allocation site (arena growth, value stack
 * growth, long number token, output buffer) fails cleanly with PC_ENOMEM
 * at each allocation and leaves the output untouched.
 */
static void
test_jcs_oom_every_allocation(void **state)
{
    struct pc_buf in, out;
    char msg[PC_ERRMSG_SIZE];
    unsigned long before;
    int n;

    (void)state;
    pc_buf_init(&in);
    pc_buf_init(&out);
    assert_int_equal(pc_buf_printf(&in, "{\"long\":1"), PC_OK);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(pc_buf_printf(&in, "%d", i % 10), PC_OK);
    }
    assert_int_equal(pc_buf_printf(&in, "e-150,\"many\":["), PC_OK);
    for (int i = 0; i < 300; i++) {
        assert_int_equal(pc_buf_printf(&in, "%s\"s\\n%d\"", i ? "," : "", i),
                         PC_OK);
    }
    assert_int_equal(pc_buf_printf(&in, "],\"wide\":{"), PC_OK);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(
            pc_buf_printf(&in, "%s\"k%d\":%d.5", i ? "," : "", (i * 7) % 40, i),
            PC_OK);
    }
    assert_int_equal(pc_buf_printf(&in, "}}"), PC_OK);

    before = pc_alloc_count();
    assert_int_equal(jcs_canonicalize((char *)in.data, in.len, &out, msg),
                     PC_OK);
    assert_true(pc_alloc_count() - before >= 4);
    pc_buf_release(&out);

    struct test_oom o = { 0 };
    for (n = 0;; n++) {
        assert_int_equal(pc_buf_put(&out, "keep", 4), PC_OK);
        test_oom_arm(&o, n, 1);
        int rc = jcs_canonicalize((char *)in.data, in.len, &out, msg);
        if (test_oom_disarm(&o, rc == PC_OK)) {
            break;
        }
        assert_int_equal(rc, PC_ENOMEM);
        assert_string_equal(msg, "out of memory");
        assert_int_equal(out.len, 4);
        assert_memory_equal(out.data, "keep", 4);
        pc_buf_release(&out);
    }
    test_oom_end(&o);
    assert_true(n >= 4);
    pc_buf_release(&out);
    pc_buf_release(&in);
}

/* ---- writer ---------------------------------------------------------- */

/* The writer's bytes so far as a NUL-terminated string (for messages). */
static const char *
wtext(struct pc_buf *b)
{
    assert_int_equal(pc_buf_put_u8(b, 0), PC_OK);
    b->len--;
    return (const char *)b->data;
}

/* Every kind of value, nested, with keys in canonical order. */
static void
test_jcs_writer_values(void **state)
{
    static const char want[] =
        "{\"a\":[],\"b\":{},\"d\":[1.5,-0.001,1e+21,5e-324,0],"
        "\"i\":[0,-1,9007199254740991,-9007199254740992,"
        "9223372036854776000,-9223372036854776000],"
        "\"l\":[true,false,null],\"s\":\"caf\xc3\xa9 \\\"q\\\" \\\\\","
        "\"v\":[[1,{\"x\":\"y\"}],{\"k\":2}],\"z\":[\"\",\"a\\u0000b\"]}";
    struct jcs_writer w;
    struct jcs_doc *d;
    struct pc_buf b;

    (void)state;
    pc_buf_init(&b);
    static const char v[] = "[[1,{\"x\":\"y\"}],{\"k\":2}]";
    assert_int_equal(jcs_parse(v, sizeof(v) - 1, &d, NULL), PC_OK);
    jcs_w_init(&w, &b);
    jcs_w_obj(&w);
    jcs_w_key(&w, "a");
    jcs_w_arr(&w);
    jcs_w_arr_end(&w);
    jcs_w_key(&w, "b");
    jcs_w_obj(&w);
    jcs_w_obj_end(&w);
    jcs_w_key(&w, "d");
    jcs_w_arr(&w);
    jcs_w_double(&w, 1.5);
    jcs_w_double(&w, -0.001);
    jcs_w_double(&w, 1e21);
    jcs_w_double(&w, 5e-324);
    jcs_w_double(&w, -0.0);
    jcs_w_arr_end(&w);
    jcs_w_key(&w, "i");
    jcs_w_arr(&w);
    jcs_w_int(&w, 0);
    jcs_w_int(&w, -1);
    jcs_w_int(&w, 9007199254740991);
    jcs_w_int(&w, -9007199254740992);
    jcs_w_int(&w, INT64_MAX);
    jcs_w_int(&w, INT64_MIN);
    jcs_w_arr_end(&w);
    jcs_w_key(&w, "l");
    jcs_w_arr(&w);
    jcs_w_bool(&w, true);
    jcs_w_bool(&w, false);
    jcs_w_null(&w);
    jcs_w_arr_end(&w);
    jcs_w_kstr(&w, "s", "caf\xc3\xa9 \"q\" \\");
    jcs_w_key(&w, "v");
    jcs_w_val(&w, d, jcs_root(d));
    jcs_w_keyn(&w, "z", 1);
    jcs_w_arr(&w);
    jcs_w_str(&w, "");
    jcs_w_strn(&w, "a\0b", 3);
    jcs_w_arr_end(&w);
    jcs_w_obj_end(&w);
    assert_int_equal(jcs_w_finish(&w), PC_OK);
    assert_string_equal(wtext(&b), want);
    jcs_doc_free(d);

    /* Scalars alone, raw splices, the member shorthands. */
    b.len = 0;
    jcs_w_init(&w, &b);
    jcs_w_str(&w, "top");
    assert_int_equal(jcs_w_finish(&w), PC_OK);
    jcs_w_init(&w, &b);
    jcs_w_obj(&w);
    jcs_w_kbool(&w, "b", true);
    jcs_w_kint(&w, "i", -7);
    jcs_w_knull(&w, "n");
    jcs_w_key(&w, "r");
    jcs_w_raw(&w, "{\"x\":[1]}", 9);
    jcs_w_kstr(&w, "s", "t");
    jcs_w_obj_end(&w);
    assert_int_equal(jcs_w_finish(&w), PC_OK);
    assert_string_equal(wtext(&b), "\"top\"{\"b\":true,\"i\":-7,\"n\":null,"
                                   "\"r\":{\"x\":[1]},\"s\":\"t\"}");
    pc_buf_release(&b);
}

/* Every byte below 0x80 in a string value and in a key is written as
 * jcs_emit writes it (a parse of the \\u00xx form, then emit). */
static void
test_jcs_writer_escapes_like_emit(void **state)
{
    struct pc_buf b, in, c;
    struct jcs_writer w;

    (void)state;
    pc_buf_init(&b);
    pc_buf_init(&in);
    pc_buf_init(&c);
    for (unsigned ch = 0; ch < 0x80; ch++) {
        char s[3] = { 'a', (char)ch, 'z' };

        b.len = in.len = c.len = 0;
        jcs_w_init(&w, &b);
        jcs_w_obj(&w);
        jcs_w_keyn(&w, s, 3);
        jcs_w_strn(&w, s, 3);
        jcs_w_obj_end(&w);
        assert_int_equal(jcs_w_finish(&w), PC_OK);
        assert_int_equal(
            pc_buf_printf(&in, "{\"a\\u%04xz\":\"a\\u%04xz\"}", ch, ch), PC_OK);
        assert_int_equal(
            jcs_canonicalize((const char *)in.data, in.len, &c, NULL), PC_OK);
        if (b.len != c.len || memcmp(b.data, c.data, b.len) != 0) {
            fail_msg("byte 0x%02x: writer %s, emit %.*s", ch, wtext(&b),
                     (int)c.len, (const char *)c.data);
        }
    }
    pc_buf_release(&b);
    pc_buf_release(&in);
    pc_buf_release(&c);
}

/* Keys in UTF-16 order, which differs from UTF-8 byte order above U+FFFF,
 * give what the parser's sort gives. */
static void
test_jcs_writer_key_order(void **state)
{
    /* UTF-16 order: "", "a", "ab", U+00E9, U+20AC, U+1F600 (D83D DE00),
     * U+E000, U+FFFF. */
    static const char *const keys[] = {
        "",
        "a",
        "ab",
        "\xc3\xa9",
        "\xe2\x82\xac",
        "\xf0\x9f\x98\x80",
        "\xee\x80\x80",
        "\xef\xbf\xbf",
    };
    static const char in[] =
        "{\"\\uffff\":7,\"\\ue000\":6,\"\\ud83d\\ude00\":5,\"\\u20ac\":4,"
        "\"\\u00e9\":3,\"ab\":2,\"a\":1,\"\":0}";
    struct pc_buf b, c;
    struct jcs_writer w;

    (void)state;
    pc_buf_init(&b);
    pc_buf_init(&c);
    jcs_w_init(&w, &b);
    jcs_w_obj(&w);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        jcs_w_kint(&w, keys[i], (int64_t)i);
        if (i > 0) {
            assert_true(jcs_key_cmp(keys[i - 1], strlen(keys[i - 1]), keys[i],
                                    strlen(keys[i])) < 0);
            assert_true(jcs_key_cmp(keys[i], strlen(keys[i]), keys[i - 1],
                                    strlen(keys[i - 1])) > 0);
        }
    }
    jcs_w_obj_end(&w);
    assert_int_equal(jcs_w_finish(&w), PC_OK);
    assert_int_equal(jcs_canonicalize(in, sizeof(in) - 1, &c, NULL), PC_OK);
    assert_int_equal(b.len, c.len);
    assert_memory_equal(b.data, c.data, b.len);
    assert_int_equal(jcs_key_cmp("ab", 2, "ab", 2), 0);
    /* Keys whose written form has escapes are compared unescaped. */
    b.len = 0;
    jcs_w_init(&w, &b);
    jcs_w_obj(&w);
    jcs_w_kint(&w, "\x01", 1);
    jcs_w_kint(&w, "\n", 2);
    jcs_w_kint(&w, "\x1f", 3);
    jcs_w_kint(&w, "\"", 4);
    jcs_w_kint(&w, "A", 5);
    jcs_w_kint(&w, "\\", 6);
    jcs_w_kint(&w, "\\\\", 7);
    jcs_w_obj_end(&w);
    assert_int_equal(jcs_w_finish(&w), PC_OK);
    assert_string_equal(wtext(&b),
                        "{\"\\u0001\":1,\"\\n\":2,\"\\u001f\":3,"
                        "\"\\\"\":4,\"A\":5,\"\\\\\":6,\"\\\\\\\\\":7}");
    pc_buf_release(&b);
    pc_buf_release(&c);
}

/* Write `v` of `d` again through the writer: containers item by item
 * (some spliced whole), scalars by type. */
static void
rewrite(struct gen *g, struct jcs_writer *w, const struct jcs_doc *d,
        const struct jcs_val *v)
{
    const char *s;
    size_t len;

    if (rnd(g, 8) == 0) {
        jcs_w_val(w, d, v);
        return;
    }
    switch (jcs_type(v)) {
    case JCS_NULL:
        jcs_w_null(w);
        break;
    case JCS_TRUE:
    case JCS_FALSE:
        jcs_w_bool(w, jcs_type(v) == JCS_TRUE);
        break;
    case JCS_NUMBER:
        if (jcs_is_integer(v) && rnd(g, 2)) {
            jcs_w_int(w, (int64_t)jcs_number(v));
        } else {
            jcs_w_double(w, jcs_number(v));
        }
        break;
    case JCS_STRING:
        s = jcs_string(v, &len);
        jcs_w_strn(w, s, len);
        break;
    case JCS_ARRAY:
        jcs_w_arr(w);
        for (size_t i = 0; i < jcs_len(v); i++) {
            rewrite(g, w, d, jcs_at(v, i));
        }
        jcs_w_arr_end(w);
        break;
    case JCS_OBJECT:
        jcs_w_obj(w);
        for (size_t i = 0; i < jcs_len(v); i++) {
            s = jcs_key(v, i, &len);
            jcs_w_keyn(w, s, len);
            rewrite(g, w, d, jcs_at(v, i));
        }
        jcs_w_obj_end(w);
        break;
    }
}

/* Random documents written again through the writer give exactly the
 * canonical bytes of jcs_parse + jcs_emit. */
static void
test_jcs_writer_random_round_trip(void **state)
{
    uint64_t seed = test_seed();
    struct gen g = { .rng = seed };
    struct pc_buf in, c, b;
    char msg[PC_ERRMSG_SIZE];

    (void)state;
    pc_buf_init(&in);
    pc_buf_init(&c);
    pc_buf_init(&b);
    g.b = &in;
    for (int i = 0; i < 3000; i++) {
        struct jcs_writer w;
        struct jcs_doc *d;

        in.len = c.len = b.len = 0;
        gen_value(&g, 0);
        if (jcs_parse((char *)in.data, in.len, &d, msg) != PC_OK) {
            test_seed_note(__func__, seed);
            fail_msg("doc %d: %s", i, msg);
        }
        assert_int_equal(jcs_emit(d, &c), PC_OK);
        jcs_w_init(&w, &b);
        rewrite(&g, &w, d, jcs_root(d));
        assert_int_equal(jcs_w_finish(&w), PC_OK);
        jcs_doc_free(d);
        if (b.len != c.len || memcmp(b.data, c.data, b.len) != 0) {
            test_seed_note(__func__, seed);
            fail_msg("doc %d: %.*s\n emit   %.*s\n writer %.*s", i, (int)in.len,
                     in.data, (int)c.len, c.data, (int)b.len, b.data);
        }
    }
    pc_buf_release(&in);
    pc_buf_release(&c);
    pc_buf_release(&b);
}

/* A string that is not UTF-8 or a number JSON cannot hold is PC_EINVAL,
 * reported once at the end with the buffer as it was; later calls do
 * nothing. */
static void
test_jcs_writer_sticky_errors(void **state)
{
    static const char *const bad[] = { "\xff", "\xc3", "\xed\xa0\x80",
                                       "\xc0\xaf" };
    struct jcs_writer w;
    struct pc_buf b;

    (void)state;
    pc_buf_init(&b);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (int as_key = 0; as_key < 2; as_key++) {
            b.len = 0;
            assert_int_equal(pc_buf_put(&b, "keep", 4), PC_OK);
            jcs_w_init(&w, &b);
            jcs_w_obj(&w);
            jcs_w_kstr(&w, "a", "fine");
            if (as_key) {
                jcs_w_kstr(&w, bad[i], "x");
            } else {
                jcs_w_kstr(&w, "b", bad[i]);
            }
            assert_int_equal(b.len, 4);
            jcs_w_kstr(&w, "c", "more");
            jcs_w_obj_end(&w);
            assert_int_equal(jcs_w_finish(&w), PC_EINVAL);
            assert_int_equal(b.len, 4);
            assert_memory_equal(b.data, "keep", 4);
        }
    }
    static const double nonfinite[] = { NAN, INFINITY, -INFINITY };
    for (size_t i = 0; i < 3; i++) {
        b.len = 0;
        jcs_w_init(&w, &b);
        jcs_w_arr(&w);
        jcs_w_int(&w, 1);
        jcs_w_double(&w, nonfinite[i]);
        jcs_w_int(&w, 2);
        jcs_w_arr_end(&w);
        assert_int_equal(jcs_w_finish(&w), PC_EINVAL);
        assert_int_equal(b.len, 0);
    }
    pc_buf_release(&b);
}

/* Run `fn` in a child process: whether it died of an assert (SIGABRT). */
static bool
aborts(void (*fn)(void))
{
    pid_t pid = fork();
    int st;

    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        dup2(null, 2); /* the assert's message is expected */
        fn();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

static struct pc_buf misuse_buf;

static void
misuse_order(void)
{
    struct jcs_writer w;

    jcs_w_init(&w, &misuse_buf);
    jcs_w_obj(&w);
    jcs_w_kint(&w, "b", 1);
    jcs_w_kint(&w, "a", 2);
}

static void
misuse_repeat(void)
{
    struct jcs_writer w;

    jcs_w_init(&w, &misuse_buf);
    jcs_w_obj(&w);
    jcs_w_kint(&w, "a", 1);
    jcs_w_kint(&w, "a", 2);
}

/* Byte order would accept this; UTF-16 order puts U+1F600 first. */
static void
misuse_utf16(void)
{
    struct jcs_writer w;

    jcs_w_init(&w, &misuse_buf);
    jcs_w_obj(&w);
    jcs_w_kint(&w, "\xef\xbf\xbf", 1);
    jcs_w_kint(&w, "\xf0\x9f\x98\x80", 2);
}

static void
misuse_escaped_order(void)
{
    struct jcs_writer w;

    jcs_w_init(&w, &misuse_buf);
    jcs_w_obj(&w);
    jcs_w_kint(&w, "A", 1);
    jcs_w_kint(&w, "\x01", 2); /* written \u0001: sorts before "A" */
}

static void
misuse_value_without_key(void)
{
    struct jcs_writer w;

    jcs_w_init(&w, &misuse_buf);
    jcs_w_obj(&w);
    jcs_w_int(&w, 1);
}

static void
misuse_key_in_array(void)
{
    struct jcs_writer w;

    jcs_w_init(&w, &misuse_buf);
    jcs_w_arr(&w);
    jcs_w_key(&w, "a");
}

static void
misuse_key_without_value(void)
{
    struct jcs_writer w;

    jcs_w_init(&w, &misuse_buf);
    jcs_w_obj(&w);
    jcs_w_key(&w, "a");
    jcs_w_obj_end(&w);
}

static void
misuse_wrong_end(void)
{
    struct jcs_writer w;

    jcs_w_init(&w, &misuse_buf);
    jcs_w_obj(&w);
    jcs_w_arr_end(&w);
}

static void
misuse_two_values(void)
{
    struct jcs_writer w;

    jcs_w_init(&w, &misuse_buf);
    jcs_w_int(&w, 1);
    jcs_w_int(&w, 2);
}

static void
misuse_unfinished(void)
{
    struct jcs_writer w;

    jcs_w_init(&w, &misuse_buf);
    jcs_w_arr(&w);
    jcs_w_finish(&w);
}

static void
misuse_nothing(void)
{
    struct jcs_writer w;

    jcs_w_init(&w, &misuse_buf);
    jcs_w_finish(&w);
}

static void
misuse_too_deep(void)
{
    struct jcs_writer w;

    jcs_w_init(&w, &misuse_buf);
    for (int i = 0; i <= JCS_W_MAX_DEPTH; i++) {
        jcs_w_arr(&w);
    }
}

static void
use_in_order(void)
{
    struct jcs_writer w;

    jcs_w_init(&w, &misuse_buf);
    jcs_w_obj(&w);
    jcs_w_kint(&w, "\x01", 1);
    jcs_w_kint(&w, "A", 2);
    jcs_w_kint(&w, "\xf0\x9f\x98\x80", 3);
    jcs_w_kint(&w, "\xef\xbf\xbf", 4);
    jcs_w_obj_end(&w);
    if (jcs_w_finish(&w) != PC_OK) {
        abort();
    }
}

/* Keys out of canonical order, repeated keys and misplaced calls are bugs
 * of the caller: each stops the process with an assert. */
static void
test_jcs_writer_asserts_misuse(void **state)
{
    static void (*const cases[])(void) = {
        misuse_order,
        misuse_repeat,
        misuse_utf16,
        misuse_escaped_order,
        misuse_value_without_key,
        misuse_key_in_array,
        misuse_key_without_value,
        misuse_wrong_end,
        misuse_two_values,
        misuse_unfinished,
        misuse_nothing,
        misuse_too_deep,
    };

    (void)state;
    pc_buf_init(&misuse_buf);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (!aborts(cases[i])) {
            fail_msg("misuse case %zu did not stop on an assert", i);
        }
    }
    assert_false(aborts(use_in_order));
}

/* A document whose writing grows the buffer several times: each
 * allocation failing once gives PC_ENOMEM with the buffer as it was; the
 * sweep must inject at least one failure before the run that succeeds. */
static void
test_jcs_writer_oom_every_allocation(void **state)
{
    struct test_oom o = { 0 };
    struct jcs_doc *d;
    struct pc_buf b;
    char big[300];
    long k;

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    static const char v[] = "{\"q\":[1,\"two\",{\"3\":null}]}";
    assert_int_equal(jcs_parse(v, sizeof(v) - 1, &d, NULL), PC_OK);
    pc_buf_init(&b);
    for (k = 0;; k++) {
        struct jcs_writer w;
        int rc;

        assert_int_equal(pc_buf_put(&b, "keep", 4), PC_OK);
        test_oom_arm(&o, k, 1);
        jcs_w_init(&w, &b);
        jcs_w_obj(&w);
        jcs_w_key(&w, "a");
        jcs_w_arr(&w);
        for (int i = 0; i < 20; i++) {
            jcs_w_str(&w, big);
        }
        jcs_w_arr_end(&w);
        jcs_w_key(&w, "b");
        jcs_w_val(&w, d, jcs_root(d));
        jcs_w_kint(&w, "c", 3);
        jcs_w_obj_end(&w);
        rc = jcs_w_finish(&w);
        if (test_oom_disarm(&o, rc == PC_OK)) {
            break;
        }
        assert_int_equal(rc, PC_ENOMEM);
        assert_int_equal(b.len, 4);
        assert_memory_equal(b.data, "keep", 4);
        pc_buf_release(&b);
        assert_true(k < 1000);
    }
    test_oom_end(&o);
    assert_int_equal(o.failed, k);
    assert_memory_equal(b.data, "keep{\"a\":[\"xxx", 12);
    pc_buf_release(&b);
    jcs_doc_free(d);
}

/* Canonicalising a ~300-byte record: correct, and its speed reported. */
static void
test_jcs_throughput(void **state)
{
    static const char doc[] =
        "{\n  \"id\": \"rec-000123\", \"type\": \"dataset\",\n"
        "  \"title\": \"Quarterly sales figures, Europe \\u2013 Q2\",\n"
        "  \"owner\": \"alice@example.org\", \"created\": "
        "\"2024-05-01T12:00:00Z\",\n"
        "  \"size\": 1234567, \"score\": 0.875, \"public\": false,\n"
        "  \"tags\": [\"sales\", \"europe\", \"q2\"],\n"
        "  \"checksum\": \"9f86d081884c7d659a2feaa0c55ad015\",\n"
        "  \"meta\": {\"rows\": 52000, \"cols\": 12, \"ratio\": 1.5E-3}\n}";
    static const char want[] =
        "{\"checksum\":\"9f86d081884c7d659a2feaa0c55ad015\",\"created\":"
        "\"2024-05-01T12:00:00Z\",\"id\":\"rec-000123\",\"meta\":{\"cols\":12,"
        "\"ratio\":0.0015,\"rows\":52000},\"owner\":\"alice@example.org\","
        "\"public\":false,\"score\":0.875,\"size\":1234567,\"tags\":"
        "[\"sales\",\"europe\",\"q2\"],\"title\":\"Quarterly sales figures, "
        "Europe \xe2\x80\x93 Q2\",\"type\":\"dataset\"}";
    const int iters = 100000;
    struct timespec t0, t1;
    struct pc_buf b;
    char msg[PC_ERRMSG_SIZE];
    double secs;

    (void)state;
    pc_buf_init(&b);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < iters; i++) {
        b.len = 0;
        if (jcs_canonicalize(doc, sizeof(doc) - 1, &b, msg) != PC_OK) {
            fail_msg("%s", msg);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(b.len, sizeof(want) - 1);
    assert_memory_equal(b.data, want, b.len);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("jcs: %zu-byte object x %d: %.0f MB/s of input, "
                  "%.2f us each\n",
                  sizeof(doc) - 1, iters,
                  (double)(sizeof(doc) - 1) * iters / secs / 1e6,
                  secs / iters * 1e6);
    pc_buf_release(&b);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jcs_string_every_byte_every_position),
        cmocka_unit_test(test_jcs_rfc_number_table),
        cmocka_unit_test(test_jcs_number_oracle),
        cmocka_unit_test(test_jcs_number_random_shortest),
        cmocka_unit_test(test_jcs_number_token_path),
        cmocka_unit_test(test_jcs_number_spellings),
        cmocka_unit_test(test_jcs_rfc_sample),
        cmocka_unit_test(test_jcs_rfc_sort),
        cmocka_unit_test(test_jcs_string_escapes),
        cmocka_unit_test(test_jcs_rejects_with_message),
        cmocka_unit_test(test_jcs_depth_limit),
        cmocka_unit_test(test_jcs_value_limit),
        cmocka_unit_test(test_jcs_accessors),
        cmocka_unit_test(test_jcs_literals_and_nul),
        cmocka_unit_test(test_jcs_emit_appends),
        cmocka_unit_test(test_jcs_utf8_validator),
        cmocka_unit_test(test_jcs_random_idempotent),
        cmocka_unit_test(test_jcs_oom_every_allocation),
        cmocka_unit_test(test_jcs_writer_values),
        cmocka_unit_test(test_jcs_writer_escapes_like_emit),
        cmocka_unit_test(test_jcs_writer_key_order),
        cmocka_unit_test(test_jcs_writer_random_round_trip),
        cmocka_unit_test(test_jcs_writer_sticky_errors),
        cmocka_unit_test(test_jcs_writer_asserts_misuse),
        cmocka_unit_test(test_jcs_writer_oom_every_allocation),
        cmocka_unit_test(test_jcs_throughput),
    };

    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests_name("jcs", tests, NULL, NULL);
}
