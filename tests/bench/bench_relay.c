/*
 * cardlink — relay protocol figures (docs/protocol.md §13, §14).
 * SPDX-License-Identifier: Apache-2.0
 *
 * 1. Bytes and round trips of a 10-APDU card dialogue (SELECT, 13 bytes,
 *    answered with 32; 9 READ RECORD, 5 bytes, answered with 42 each), sent
 *    as one SCRIPT against relayed one APDU at a time. Every message is
 *    encoded by the codec with its real header (seq, ack, REF); over the
 *    stream the bytes are the messages; over lossy framing they are what two
 *    cl_relay_lossy engines really exchange on a perfect link (DATA frames
 *    with piggybacked acknowledgements, ACK-only frames, escaping). Time is
 *    computed for a 150 B/s link (Bell 202) with a 0.5 s round trip.
 * 2. Instructions per call of the codec (--callgrind): encode and decode of
 *    an APDU, a 10-step SCRIPT and a HELLO; the lossy framing of the SCRIPT.
 *    Issue 11 targets: APDU decode <= 300, HELLO decode <= 1,000 (before the
 *    codec's split: 666 and 2,475).
 */
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include "cardlink/error.h"
#include "cardlink/relay_lossy.h"
#include "cardlink/relay_msg.h"

#define NAPDU 10

static uint8_t cmd[NAPDU][16], rsp[NAPDU][48];
static size_t cmd_len[NAPDU], rsp_len[NAPDU];

static void dialogue(void)
{
    static const uint8_t select[] = { 0x00, 0xA4, 0x04, 0x00, 0x07, 0xA0, 0x00, 0x00,
                                      0x00, 0x03, 0x10, 0x10, 0x00 };
    int i;

    memcpy(cmd[0], select, sizeof(select));
    cmd_len[0] = sizeof(select);
    rsp_len[0] = 32;
    for (i = 1; i < NAPDU; i++) {
        cmd[i][0] = 0x00, cmd[i][1] = 0xB2, cmd[i][2] = (uint8_t)i, cmd[i][3] = 0x0C;
        cmd[i][4] = 0x00;
        cmd_len[i] = 5;
        rsp_len[i] = 42;
    }
    for (i = 0; i < NAPDU; i++) {
        size_t k;
        for (k = 0; k + 2 < rsp_len[i]; k++)
            rsp[i][k] = (uint8_t)(0x40 + i + k);   /* record data, no 7D/7E */
        rsp[i][rsp_len[i] - 2] = 0x90;
        rsp[i][rsp_len[i] - 1] = 0x00;
    }
}

/* One exchange of the dialogue: the encoded request and answer. */
struct exchange {
    uint8_t req[600], ans[700];
    size_t req_len, ans_len;
};

static struct exchange per_apdu[NAPDU], script;

static void encode_all(void)
{
    struct cl_relay_msg m;
    int i;

    for (i = 0; i < NAPDU; i++) {
        cl_relay_msg_init(&m, CL_RELAY_APDU);
        m.seq = (uint8_t)(i + 1);
        if (i > 0) {
            m.flags = CL_RELAY_F_ACK;
            m.ack = (uint8_t)i;
        }
        m.u.apdu.apdu.data = cmd[i];
        m.u.apdu.apdu.len = cmd_len[i];
        if (cl_relay_encode(&m, per_apdu[i].req, sizeof(per_apdu[i].req), &per_apdu[i].req_len))
            return;
        cl_relay_msg_init(&m, CL_RELAY_APDU_RESPONSE);
        m.seq = (uint8_t)(i + 1);
        m.flags = CL_RELAY_F_ACK | CL_RELAY_F_REF;
        m.ack = m.ref = (uint8_t)(i + 1);
        m.u.apdu.apdu.data = rsp[i];
        m.u.apdu.apdu.len = rsp_len[i];
        if (cl_relay_encode(&m, per_apdu[i].ans, sizeof(per_apdu[i].ans), &per_apdu[i].ans_len))
            return;
    }
    cl_relay_msg_init(&m, CL_RELAY_SCRIPT);
    m.seq = 1;
    m.u.script.nsteps = NAPDU;
    for (i = 0; i < NAPDU; i++) {
        m.u.script.steps[i].apdu.data = cmd[i];
        m.u.script.steps[i].apdu.len = cmd_len[i];
    }
    if (cl_relay_encode(&m, script.req, sizeof(script.req), &script.req_len))
        return;
    cl_relay_msg_init(&m, CL_RELAY_SCRIPT_RESULT);
    m.seq = 1;
    m.flags = CL_RELAY_F_ACK | CL_RELAY_F_REF;
    m.ack = m.ref = 1;
    m.u.script_result.nresp = NAPDU;
    for (i = 0; i < NAPDU; i++) {
        m.u.script_result.resp[i].data = rsp[i];
        m.u.script_result.resp[i].len = rsp_len[i];
    }
    if (cl_relay_encode(&m, script.ans, sizeof(script.ans), &script.ans_len))
        return;
}

/* Run exchanges through two lossy engines on a perfect link: bytes each
 * way (including the final ACK-only frame). */
static void lossy_bytes(const struct exchange *x, int n, unsigned long *s2d, unsigned long *d2s,
                        unsigned long *frames)
{
    static uint8_t arx[800], atx[800], brx[800], btx[800], buf[2000];
    struct cl_relay_lossy srv, dev;
    struct cl_relay_lossy_config cs = { 0, 0, 1, 0 }, cd = { 0, 0, 2, 0 };
    const uint8_t *m;
    size_t k, off, ml;
    int used;
    int i, dir;

    cl_relay_lossy_init(&srv, &cs, arx, sizeof(arx), atx, sizeof(atx));
    cl_relay_lossy_init(&dev, &cd, brx, sizeof(brx), btx, sizeof(btx));
    *s2d = *d2s = 0;
    for (i = 0; i < n; i++)
        for (dir = 0; dir < 2; dir++) {
            struct cl_relay_lossy *from = dir ? &dev : &srv, *to = dir ? &srv : &dev;
            /* the sender first takes in the peer's pending ack, as on a real link */
            if (cl_relay_lossy_send(from, 0, dir ? x[i].ans : x[i].req,
                                    dir ? x[i].ans_len : x[i].req_len) != CL_OK)
                return;
            k = cl_relay_lossy_pull(from, 0, buf, sizeof(buf));
            *(dir ? d2s : s2d) += k;
            for (off = 0; off < k; off += (size_t)used)
                if ((used = cl_relay_lossy_feed(to, 0, buf + off, k - off)) < 0 ||
                    cl_relay_lossy_take(to, &m, &ml) == CL_ERR_ARG)
                    return;
        }
    /* the last answer's acknowledgement */
    k = cl_relay_lossy_pull(&srv, 0, buf, sizeof(buf));
    *s2d += k;
    for (off = 0; off < k; off += (size_t)used)
        if ((used = cl_relay_lossy_feed(&dev, 0, buf + off, k - off)) < 0)
            return;
    *frames = cl_relay_lossy_stats(&srv)->frames_sent + cl_relay_lossy_stats(&dev)->frames_sent;
}

static void report(void)
{
    unsigned long sa = 0, da = 0, ls2d, ld2s, lf, ss2d, sd2s, sf;
    int i;

    for (i = 0; i < NAPDU; i++) {
        sa += per_apdu[i].req_len;
        da += per_apdu[i].ans_len;
    }
    lossy_bytes(per_apdu, NAPDU, &ls2d, &ld2s, &lf);
    lossy_bytes(&script, 1, &ss2d, &sd2s, &sf);
    printf("10-APDU card dialogue (SELECT + 9 READ RECORD; 58 command, 410 response bytes)\n");
    printf("%-30s %8s %6s %21s %13s\n", "", "msgs/frm", "trips", "bytes S>D + D>S", "at 150 B/s");
    printf("%-30s %8d %6d %7lu + %4lu = %5lu %8.1f s+%2d RTT\n", "per-APDU relay, stream", 2 * NAPDU,
           NAPDU, sa, da, sa + da, (double)(sa + da) / 150.0, NAPDU);
    printf("%-30s %8d %6d %7lu + %4lu = %5lu %8.1f s+%2d RTT\n", "one SCRIPT, stream", 2, 1,
           (unsigned long)script.req_len, (unsigned long)script.ans_len,
           (unsigned long)(script.req_len + script.ans_len),
           (double)(script.req_len + script.ans_len) / 150.0, 1);
    printf("%-30s %8lu %6d %7lu + %4lu = %5lu %8.1f s+%2d RTT\n", "per-APDU relay, lossy frames", lf,
           NAPDU, ls2d, ld2s, ls2d + ld2s, (double)(ls2d + ld2s) / 150.0, NAPDU);
    printf("%-30s %8lu %6d %7lu + %4lu = %5lu %8.1f s+%2d RTT\n", "one SCRIPT, lossy frames", sf, 1,
           ss2d, sd2s, ss2d + sd2s, (double)(ss2d + sd2s) / 150.0, 1);
    printf("with a 0.5 s round trip: per-APDU %.1f s, script %.1f s (stream); "
           "per-APDU %.1f s, script %.1f s (lossy)\n\n",
           (double)(sa + da) / 150.0 + 0.5 * NAPDU,
           (double)(script.req_len + script.ans_len) / 150.0 + 0.5,
           (double)(ls2d + ld2s) / 150.0 + 0.5 * NAPDU, (double)(ss2d + sd2s) / 150.0 + 0.5);
}

/* ------------------------------------------------------------ callgrind */

static uint8_t hello[128];
static size_t hello_len;

static void make_hello(void)
{
    static const uint8_t v[] = { 1 }, id[] = "CL-0001";
    struct cl_relay_msg m;

    cl_relay_msg_init(&m, CL_RELAY_HELLO);
    m.u.hello.versions.data = v;
    m.u.hello.versions.len = 1;
    m.u.hello.device_id.data = id;
    m.u.hello.device_id.len = 7;
    m.u.hello.caps.interfaces = 3;
    m.u.hello.caps.display_cols = 16;
    m.u.hello.caps.display_rows = 2;
    m.u.hello.caps.input = 7;
    m.u.hello.caps.max_msg = 1024;
    m.u.hello.caps.max_cmd_apdu = 261;
    m.u.hello.caps.max_resp_apdu = 258;
    m.u.hello.caps.features = 0xFF;
    m.u.hello.caps.script_steps = 32;
    if (cl_relay_encode(&m, hello, sizeof(hello), &hello_len) != CL_OK)
        hello_len = 0;
}

static void run_decode(const uint8_t *b, size_t n, unsigned long it)
{
    static struct cl_relay_msg m;
    while (it--) {
        int rc = cl_relay_decode(b, n, &m);
        cl_bench_sink(&rc, sizeof(rc));
    }
}

static void run_encode(const uint8_t *b, size_t n, unsigned long it)
{
    static struct cl_relay_msg m;
    static uint8_t out[700];
    size_t len;
    if (cl_relay_decode(b, n, &m) != CL_OK)
        return;
    while (it--) {
        int rc = cl_relay_encode(&m, out, sizeof(out), &len);
        cl_bench_sink(&rc, sizeof(rc));
    }
}

static void run_apdu_dec(unsigned long it) { run_decode(per_apdu[0].req, per_apdu[0].req_len, it); }
static void run_apdu_enc(unsigned long it) { run_encode(per_apdu[0].req, per_apdu[0].req_len, it); }
static void run_script_dec(unsigned long it) { run_decode(script.req, script.req_len, it); }
static void run_script_enc(unsigned long it) { run_encode(script.req, script.req_len, it); }
static void run_result_dec(unsigned long it) { run_decode(script.ans, script.ans_len, it); }
static void run_hello_dec(unsigned long it) { run_decode(hello, hello_len, it); }
static void run_hello_enc(unsigned long it) { run_encode(hello, hello_len, it); }

static void run_frame(unsigned long it)
{
    static uint8_t out[1400];
    static const uint8_t hdr[4] = { 3, 0x12, 5, 4 };
    size_t len;
    while (it--) {
        int rc = cl_relay_lossy_frame(hdr, script.req, script.req_len, out, sizeof(out), &len);
        cl_bench_sink(&rc, sizeof(rc));
    }
}

static const struct cl_bench_case cases[] = {
    { "apdu-dec", "cl_relay_decode APDU (SELECT, 23 B)", "cl_relay_decode", run_apdu_dec, 300, 0, 0 },
    { "apdu-enc", "cl_relay_encode APDU (SELECT, 23 B)", "cl_relay_encode", run_apdu_enc, 0, 0, 0 },
    { "script-dec", "cl_relay_decode SCRIPT (10 steps)", "cl_relay_decode", run_script_dec, 0, 0, 0 },
    { "script-enc", "cl_relay_encode SCRIPT (10 steps)", "cl_relay_encode", run_script_enc, 0, 0, 0 },
    { "result-dec", "cl_relay_decode SCRIPT-RESULT (10)", "cl_relay_decode", run_result_dec, 0, 0, 0 },
    { "hello-dec", "cl_relay_decode HELLO (49 B)", "cl_relay_decode", run_hello_dec, 1000, 0, 0 },
    { "hello-enc", "cl_relay_encode HELLO (49 B)", "cl_relay_encode", run_hello_enc, 0, 0, 0 },
    { "frame", "cl_relay_lossy_frame SCRIPT", "cl_relay_lossy_frame", run_frame, 0, 0, 0 },
};

int main(int argc, char **argv)
{
    dialogue();
    encode_all();
    make_hello();
    if (argc < 2 || strcmp(argv[1], "--run") != 0)
        report();
    return cl_bench_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
