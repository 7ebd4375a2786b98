/*
 * cardlink — T=0 engine (ISO 7816-3 §10, §12.2; EMV Book 1 §9.3): exact
 * bytes on the line for every procedure case in both roles, API errors, and
 * the reader against the card in-process with a fault injector.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Built twice: against the library, and as test_t0_reader with lib/t0/t0.c
 * compiled in with CL_T0_CARD=0 (reader firmware): that one runs the reader
 * cases (the card's bytes scripted) and checks the card role is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/t0.h"
#include "cardlink/apdu.h"
#include "cardlink/error.h"
#include "test_util.h"

/* ------------------------------------------------------------------
 * Transcripts, in the notation of every cardlink suite (run_transcript()
 * below has the whole list): R bytes the Reader sends, C bytes the Card
 * sends, whichever role the engine under test plays; '|' between turns.
 * Bytes are hex pairs, or #n:v for n bytes v, v+1, v+2, ... (mod 256).
 */
static size_t parse_bytes(const char **sp, uint8_t *out, size_t max)
{
    const char *s = *sp;
    size_t n = 0;

    for (;;) {
        while (*s == ' ')
            s++;
        if (!*s || *s == '|')
            break;
        if (*s == '#') {
            unsigned cnt, v, i;
            int used = 0;
            ck_assert_int_eq(sscanf(s, "#%u:%2x%n", &cnt, &v, &used), 2);
            for (i = 0; i < cnt; i++) {
                ck_assert_uint_lt(n, max);
                out[n++] = (uint8_t)(v + i);
            }
            s += used;
        } else {
            unsigned v;
            ck_assert_int_eq(sscanf(s, "%2x", &v), 1);
            ck_assert_uint_lt(n, max);
            out[n++] = (uint8_t)v;
            s += 2;
        }
    }
    *sp = s;
    return n;
}

static size_t hexbuf(const char *s, uint8_t *out, size_t max)
{
    return parse_bytes(&s, out, max);
}

/* Pull everything the engine wants to send (acknowledging in pieces of
 * `chunk`), until it wants something else. */
static size_t drain_send(struct cl_t0 *t0, uint8_t *out, size_t max,
                         size_t chunk)
{
    size_t total = 0;

    while (cl_t0_want(t0) == CL_T0_SEND) {
        const uint8_t *p;
        size_t n = cl_t0_pull(t0, &p);
        ck_assert_uint_gt(n, 0);
        if (n > chunk)
            n = chunk;
        ck_assert_uint_le(total + n, max);
        memcpy(out + total, p, n);
        total += n;
        ck_assert_int_eq(cl_t0_sent(t0, n), CL_OK);
    }
    return total;
}

static void feed_all(struct cl_t0 *t0, const uint8_t *b, size_t n, int *err)
{
    size_t off = 0;

    while (off < n) {
        int rc = cl_t0_feed(t0, b + off, n - off);
        if (rc < 0) {
            *err = rc;
            return;
        }
        ck_assert_int_gt(rc, 0);
        off += (size_t)rc;
    }
}

static uint8_t big_a[70000], big_b[70000];
#if CL_T0_CARD
static uint8_t big_c[70000];
#endif

/* Run a transcript on t0 (reader or card). Returns the feed error seen.
 * The line, in the project's one notation (issue 11): "R hex" bytes the
 * Reader sends, "C hex" bytes the Card sends, "|" between turns. Events
 * and the card application's calls: T time-out, P parity error, H expect
 * a header (CTRL), D the card takes the command's data, N a NULL byte,
 * S hex the card application responds, L hex the command received
 * (length check). */
static int run_transcript(struct cl_t0 *t0, const char *tr, bool card,
                          size_t chunk)
{
    const char *s = tr;
    int err = 0;

    while (*s) {
        char kind;
        size_t n, got;

        while (*s == ' ' || *s == '|')
            s++;
        if (!*s)
            break;
        kind = *s++;
        switch (kind) {
        case 'R':       /* bytes the Reader sends */
        case 'C':       /* bytes the Card sends */
            n = parse_bytes(&s, big_a, sizeof(big_a));
            if ((kind == 'R') == !card) {
                got = drain_send(t0, big_b, sizeof(big_b), chunk);
                ck_assert_msg(got == n && memcmp(big_a, big_b, n) == 0,
                              "before \"%.30s\": sent %s", s,
                              cl_test_tohex(big_b, got));
            } else {
                ck_assert_int_eq(cl_t0_want(t0), CL_T0_RECV);
                feed_all(t0, big_a, n, &err);
            }
            break;
        case 'T':
            ck_assert_int_eq(cl_t0_timeout(t0), CL_OK);
            break;
        case 'P':
            ck_assert_int_eq(cl_t0_parity_error(t0), CL_OK);
            break;
#if CL_T0_CARD
        case 'D':       /* card: take the command's data */
            ck_assert_int_eq(cl_t0_card_receive(t0), CL_OK);
            break;
        case 'N':
            ck_assert_int_eq(cl_t0_card_null(t0), CL_OK);
            break;
        case 'H':
            ck_assert_int_eq(cl_t0_want(t0), CL_T0_HEADER);
            break;
        case 'S':       /* card: respond with these bytes (data, SW) */
            n = parse_bytes(&s, big_c, sizeof(big_c));
            ck_assert_int_eq(cl_t0_card_respond(t0, big_c, n), CL_OK);
            break;
        case 'L':       /* card: the command received is this long */
            n = parse_bytes(&s, big_a, sizeof(big_a));
            ck_assert_int_eq(cl_t0_result(t0), (int)n);
            break;
#endif
        default:
            ck_abort_msg("bad transcript kind %c", kind);
        }
    }
    return err;
}

/* ------------------------------------------------------------------
 * Reader vectors: command APDU, the line, and the response delivered (or
 * the error). Clauses: ISO 7816-3:2006 §10.3 (procedure bytes), §12.2
 * (APDU transport by T=0), EMV Book 1 §9.3.1.
 */
struct reader_vec {
    const char *name;
    const char *apdu;
    size_t resp_size;       /* 0: 4096 */
    bool no_warn_rule;
    const char *line;
    const char *resp;       /* NULL when err */
    int err;
    unsigned tpdus, grs, reissues, nulls, envs;
};

static const struct reader_vec rvec[] = {
    { "case 1 (§12.2.2)", "00 70 00 01", 0, false,
      "R 00 70 00 01 00 | C 90 00", "90 00", 0, 1, 0, 0, 0, 0 },
    { "case 2S, ACK INS (§12.2.3)", "00 B0 00 00 04", 0, false,
      "R 00 B0 00 00 04 | C B0 01 02 03 04 90 00", "01 02 03 04 90 00", 0,
      1, 0, 0, 0, 0 },
    { "case 2S Le=00 is 256", "00 B0 00 00 00", 0, false,
      "R 00 B0 00 00 00 | C B0 #256:00 90 00", "#256:00 90 00", 0,
      1, 0, 0, 0, 0 },
    { "case 2S, ACK INS^FF byte by byte", "00 B0 00 00 03", 0, false,
      "R 00 B0 00 00 03 | C 4F 0A | C 4F 0B 4F | C 0C 90 00",
      "0A 0B 0C 90 00", 0, 1, 0, 0, 0, 0 },
    { "case 2S, 6Cxx re-issue (§12.2.3 2S.3)", "00 B0 00 00 10", 0, false,
      "R 00 B0 00 00 10 | C 6C 04 | R 00 B0 00 00 04 | C B0 01 02 03 04 90 00",
      "01 02 03 04 90 00", 0, 2, 0, 1, 0, 0 },
    { "case 2S, second 6Cxx delivered", "00 B0 00 00 10", 0, false,
      "R 00 B0 00 00 10 | C 6C 04 | R 00 B0 00 00 04 | C 6C 02",
      "6C 02", 0, 2, 0, 1, 0, 0 },
    { "case 2S, 6Cxx larger than the buffer delivered", "00 B0 00 00 04", 8,
      false, "R 00 B0 00 00 04 | C 6C 20", "6C 20", 0, 1, 0, 0, 0, 0 },
    { "case 2S, 61xx after data (§12.2.3 2S.4)", "00 CA 9F 7F 02", 0, false,
      "R 00 CA 9F 7F 02 | C CA AA BB 61 03 | R 00 C0 00 00 03 | C C0 CC DD EE 90 00",
      "AA BB CC DD EE 90 00", 0, 2, 1, 0, 0, 0 },
    { "case 2S, error SW without data", "00 B0 00 00 04", 0, false,
      "R 00 B0 00 00 04 | C 6A 82", "6A 82", 0, 1, 0, 0, 0, 0 },
    { "case 3S, ACK INS (§12.2.4)", "00 D6 00 00 03 AA BB CC", 0, false,
      "R 00 D6 00 00 03 | C D6 | R AA BB CC | C 90 00", "90 00", 0,
      1, 0, 0, 0, 0 },
    { "case 3S, ACK INS^FF byte by byte", "00 D6 00 00 03 AA BB CC", 0, false,
      "R 00 D6 00 00 03 | C 29 | R AA | C 29 | R BB | C 29 | R CC | C 90 00",
      "90 00", 0, 1, 0, 0, 0, 0 },
    { "case 3S, INS^FF then INS for the rest", "00 D6 00 00 03 AA BB CC", 0,
      false, "R 00 D6 00 00 03 | C 29 | R AA | C D6 | R BB CC | C 90 00",
      "90 00", 0, 1, 0, 0, 0, 0 },
    { "case 3S, NULL bytes interleaved", "00 D6 00 00 02 AA BB", 0, false,
      "R 00 D6 00 00 02 | C 60 60 D6 | R AA BB | C 60 | C 60 90 00", "90 00",
      0, 1, 0, 0, 4, 0 },
    { "case 3S, error before the data (VERIFY 63C2)", "00 20 00 80 02 12 34",
      0, false, "R 00 20 00 80 02 | C 20 | R 12 34 | C 63 C2", "63 C2", 0,
      1, 0, 0, 0, 0 },
    { "case 3S, refused after the header", "00 D6 00 00 02 AA BB", 0, false,
      "R 00 D6 00 00 02 | C 69 82", "69 82", 0, 1, 0, 0, 0, 0 },
    { "case 4S, 61xx and GET RESPONSE (§12.2.5 4S.2)",
      "00 A4 04 00 02 3F 00 00", 0, false,
      "R 00 A4 04 00 02 | C A4 | R 3F 00 | C 61 04 | R 00 C0 00 00 04 | "
      "C C0 6F 02 84 00 90 00", "6F 02 84 00 90 00", 0, 2, 1, 0, 0, 0 },
    { "case 4S, 9000 without data (4S.3)", "00 A4 04 00 02 3F 00 00", 0, false,
      "R 00 A4 04 00 02 | C A4 | R 3F 00 | C 90 00", "90 00", 0, 1, 0, 0, 0, 0 },
    { "case 4S, 61xx chain of three", "80 CA 00 00 01 01 00", 0, false,
      "R 80 CA 00 00 01 | C CA | R 01 | C 61 02 | R 80 C0 00 00 02 | "
      "C C0 11 22 61 03 | R 80 C0 00 00 03 | C C0 33 44 55 61 01 | "
      "R 80 C0 00 00 01 | C 60 C0 66 90 00", "11 22 33 44 55 66 90 00", 0,
      4, 3, 0, 1, 0 },
    { "case 4S, 61xx then 6Cxx on GET RESPONSE", "00 88 00 00 02 01 02 00", 0,
      false, "R 00 88 00 00 02 | C 88 | R 01 02 | C 61 10 | R 00 C0 00 00 10 | "
      "C 6C 08 | R 00 C0 00 00 08 | C C0 #8:A0 90 00", "#8:A0 90 00", 0,
      3, 1, 1, 0, 0 },
    { "case 4S, 6100 asks 256", "00 B2 01 0C 01 00 00", 0, false,
      "R 00 B2 01 0C 01 | C B2 | R 00 | C 61 00 | R 00 C0 00 00 00 | "
      "C C0 #256:10 90 00", "#256:10 90 00", 0, 2, 1, 0, 0, 0 },
    { "case 4S, warning 6283: EMV GET RESPONSE Le=00 (Book 1 §9.3.1.3)",
      "00 A4 04 00 02 3F 00 00", 0, false,
      "R 00 A4 04 00 02 | C A4 | R 3F 00 | C 62 83 | R 00 C0 00 00 00 | "
      "C 6C 05 | R 00 C0 00 00 05 | C C0 01 02 03 04 05 90 00",
      "01 02 03 04 05 62 83", 0, 3, 1, 1, 0, 0 },
    { "case 4S, warning, GET RESPONSE refused: the warning alone",
      "00 A4 04 00 02 3F 00 00", 0, false,
      "R 00 A4 04 00 02 | C A4 | R 3F 00 | C 63 00 | R 00 C0 00 00 00 | C 6A 86",
      "63 00", 0, 2, 1, 0, 0, 0 },
    { "case 4S, proprietary 9F10 handled as a warning", "80 A8 00 00 01 83 00",
      0, false, "R 80 A8 00 00 01 | C A8 | R 83 | C 9F 10 | R 80 C0 00 00 00 | "
      "C 61 02 | R 80 C0 00 00 02 | C C0 77 00 90 00", "77 00 9F 10", 0,
      3, 2, 0, 0, 0 },
    { "case 4S, warning rule off: delivered at once", "00 A4 04 00 02 3F 00 00",
      0, true, "R 00 A4 04 00 02 | C A4 | R 3F 00 | C 62 83", "62 83", 0,
      1, 0, 0, 0, 0 },
    { "case 4S, error SW: no GET RESPONSE", "00 A4 04 00 02 3F 00 00", 0, false,
      "R 00 A4 04 00 02 | C A4 | R 3F 00 | C 6A 82", "6A 82", 0, 1, 0, 0, 0, 0 },
    { "case 4S, 6400 is an error, not a warning (62xx, 63xx are)",
      "00 A4 04 00 02 3F 00 00", 0, false,
      "R 00 A4 04 00 02 | C A4 | R 3F 00 | C 64 00", "64 00", 0, 1, 0, 0, 0, 0 },
    { "case 2E, Ne 257 asked as 256", "00 B0 00 00 00 01 01", 0, false,
      "R 00 B0 00 00 00 | C B0 #256:10 90 00", "#256:10 90 00", 0, 1, 0, 0, 0, 0 },
    { "case 4S, room for 4 data bytes: 61xx delivered with what fits",
      "00 A4 04 00 02 3F 00 00", 6, false,
      "R 00 A4 04 00 02 | C A4 | R 3F 00 | C 61 10 | R 00 C0 00 00 04 | "
      "C C0 01 02 03 04 61 0C", "01 02 03 04 61 0C", 0, 2, 1, 0, 0, 0 },
    { "case 4S, no room for data: 61xx delivered at once",
      "00 A4 04 00 02 3F 00 00", 2, false,
      "R 00 A4 04 00 02 | C A4 | R 3F 00 | C 61 10", "61 10", 0, 1, 0, 0, 0, 0 },
    { "GET RESPONSE answered 61xx without data: once more, then no loop",
      "00 A4 04 00 01 3F 00", 0, false,
      "R 00 A4 04 00 01 | C A4 | R 3F | C 61 10 | R 00 C0 00 00 10 | C 61 08 | "
      "R 00 C0 00 00 08 | C 61 08", "61 08", 0, 3, 2, 0, 0, 0 },
    { "case 2E Ne=5 as case 2S P3=05", "00 B0 00 00 00 00 05", 0, false,
      "R 00 B0 00 00 05 | C B0 #5:00 90 00", "#5:00 90 00", 0, 1, 0, 0, 0, 0 },
    { "case 2E Ne=300: P3=00 and 61xx", "00 B0 00 00 00 01 2C", 0, false,
      "R 00 B0 00 00 00 | C B0 #256:00 61 2C | R 00 C0 00 00 2C | C C0 #44:00 90 00",
      "#300:00 90 00", 0, 2, 1, 0, 0, 0 },
    { "case 3E via ENVELOPE, two pieces", "00 D6 00 00 00 01 00 #256:00", 0, false,
      "R 00 C2 00 00 FF | C C2 | R 00 D6 00 00 00 01 00 #248:00 | C 90 00 | "
      "R 00 C2 00 00 08 | C C2 | R #8:F8 | C 90 00", "90 00", 0, 2, 0, 0, 0, 2 },
    { "case 4E via ENVELOPE, response by GET RESPONSE",
      "80 2A 9E 9A 00 00 03 01 02 03 00 00", 0, false,
      "R 80 C2 00 00 0C | C C2 | R 80 2A 9E 9A 00 00 03 01 02 03 00 00 | "
      "C 61 03 | R 80 C0 00 00 03 | C C0 AA BB CC 90 00", "AA BB CC 90 00", 0,
      2, 1, 0, 0, 1 },
    { "case 3E via ENVELOPE, card refuses the first piece",
      "00 D6 00 00 00 01 00 #256:00", 0, false,
      "R 00 C2 00 00 FF | C 6D 00", "6D 00", 0, 1, 0, 0, 0, 1 },
    { "bad procedure byte", "00 B0 00 00 04", 0, false,
      "R 00 B0 00 00 04 | C 12", NULL, CL_ERR_PROTOCOL, 1, 0, 0, 0, 0 },
    { "ACK on case 1 (no data to transfer)", "00 70 00 01", 0, false,
      "R 00 70 00 01 00 | C 70", NULL, CL_ERR_PROTOCOL, 1, 0, 0, 0, 0 },
    { "ACK again after all data sent", "00 D6 00 00 01 AA", 0, false,
      "R 00 D6 00 00 01 | C D6 | R AA | C D6", NULL, CL_ERR_PROTOCOL,
      1, 0, 0, 0, 0 },
    { "WT timeout waiting for the procedure byte (§10.2)", "00 B0 00 00 04", 0,
      false, "R 00 B0 00 00 04 | C 60 | T", NULL, CL_ERR_TIMEOUT, 1, 0, 0, 1, 0 },
    { "WT timeout inside the data", "00 B0 00 00 04", 0, false,
      "R 00 B0 00 00 04 | C B0 01 02 | T", NULL, CL_ERR_TIMEOUT, 1, 0, 0, 0, 0 },
    { "WT timeout waiting for SW2", "00 70 00 01", 0, false,
      "R 00 70 00 01 00 | C 90 | T", NULL, CL_ERR_TIMEOUT, 1, 0, 0, 0, 0 },
    { "parity error after repetitions", "00 B0 00 00 04", 0, false,
      "R 00 B0 00 00 04 | C B0 01 | P", NULL, CL_ERR_PARITY, 1, 0, 0, 0, 0 },
    { "a byte out of turn after SW2", "00 70 00 01", 0, false,
      "R 00 70 00 01 00 | C 90 00 00", NULL, CL_ERR_PROTOCOL, 1, 0, 0, 0, 0 },
};

static void check_stats(const struct cl_t0 *t0, unsigned tp, unsigned gr,
                        unsigned re, unsigned nu, unsigned en)
{
    const struct cl_t0_stats *st = cl_t0_stats(t0);
    ck_assert_uint_eq(st->tpdus, tp);
    ck_assert_uint_eq(st->get_responses, gr);
    ck_assert_uint_eq(st->reissues, re);
    ck_assert_uint_eq(st->nulls, nu);
    ck_assert_uint_eq(st->envelopes, en);
}

static void reader_vector(const struct reader_vec *v, size_t chunk)
{
    struct cl_t0 t0;
    struct cl_t0_config cfg;
    static uint8_t apdu[70000], resp[4096], want[4096];
    size_t alen = hexbuf(v->apdu, apdu, sizeof(apdu));
    size_t rsize = v->resp_size ? v->resp_size : sizeof(resp);
    int err;

    cl_t0_config_default(&cfg, CL_T0_ROLE_READER);
    cfg.warning_get_response = !v->no_warn_rule;
    ck_assert_int_eq(cl_t0_setup(&t0, &cfg), CL_OK);
    ck_assert_int_eq(cl_t0_transmit_start(&t0, apdu, alen, resp, rsize), CL_OK);
    err = run_transcript(&t0, v->line, false, chunk);
    if (v->resp) {
        size_t n = hexbuf(v->resp, want, sizeof(want));
        ck_assert_int_eq(err, 0);
        ck_assert_int_eq(cl_t0_want(&t0), CL_T0_DONE);
        ck_assert_int_eq(cl_t0_result(&t0), (int)n);
        ck_assert_msg(memcmp(resp, want, n) == 0, "%s: response %s", v->name,
                      cl_test_tohex(resp, n));
    } else {
        ck_assert_int_eq(cl_t0_want(&t0), CL_T0_DEACTIVATE);
        ck_assert_int_eq(cl_t0_error(&t0), v->err);
        ck_assert_int_eq(cl_t0_result(&t0), CL_ERR_STATE);
        /* sticky */
        ck_assert_int_eq(cl_t0_feed(&t0, apdu, 1), CL_ERR_STATE);
        ck_assert_int_eq(cl_t0_transmit_start(&t0, apdu, alen, resp, rsize),
                         CL_ERR_STATE);
    }
    check_stats(&t0, v->tpdus, v->grs, v->reissues, v->nulls, v->envs);
}

START_TEST(test_reader_vectors)
{
    reader_vector(&rvec[_i], (size_t)-1);
}
END_TEST

/* The same, the line layer taking one byte at a time. */
START_TEST(test_reader_vectors_bytewise)
{
    reader_vector(&rvec[_i], 1);
}
END_TEST

#if CL_T0_CARD
/* ------------------------------------------------------------------
 * Card vectors: what the card engine sends for each header and answer.
 */
struct card_vec {
    const char *name;
    bool sba, wfirst;
    const char *line;
    unsigned tpdus, grs, reissues, nulls, envs;
};

static const struct card_vec cvec[] = {
    { "case 1", false, false, "R 00 70 00 01 00 | H | S 90 00 | C 90 00",
      1, 0, 0, 0, 0 },
    { "case 2, exactly Ne: ACK, data, SW", false, false,
      "R 00 B0 00 00 03 | S 01 02 03 90 00 | C B0 01 02 03 90 00", 1, 0, 0, 0, 0 },
    { "case 2, Le 00 and 256 bytes", false, false,
      "R 00 B0 00 00 00 | S #256:00 90 00 | C B0 #256:00 90 00", 1, 0, 0, 0, 0 },
    { "case 2, fewer than Ne: 6Cxx, re-issue served", false, false,
      "R 00 B0 00 00 05 | S 01 02 03 90 00 | C 6C 03 | R 00 B0 00 00 03 | "
      "C B0 01 02 03 90 00", 2, 0, 1, 0, 0 },
    { "case 2, more than Ne (<= 256): 6Cxx", false, false,
      "R 00 84 00 00 02 | S #8:00 90 00 | C 6C 08 | R 00 84 00 00 08 | "
      "C 84 #8:00 90 00", 2, 0, 1, 0, 0 },
    { "case 2, 300 bytes for Le 00: 256 and 61 2C", false, false,
      "R 00 B0 00 00 00 | S #300:00 90 00 | C B0 #256:00 61 2C | "
      "R 00 C0 00 00 2C | C C0 #44:00 90 00", 2, 1, 0, 0, 0 },
    { "case 2, the rest in two GET RESPONSEs: still kept after the first", false, false,
      "R 00 B0 00 00 00 | S #300:00 90 00 | C B0 #256:00 61 2C | "
      "R 00 C0 00 00 10 | C C0 #16:00 61 1C | R 00 C0 00 00 1C | C C0 #28:10 90 00",
      3, 2, 0, 0, 0 },
    { "case 4, the same header again (not a re-issue): the application's", false, false,
      "R 00 A4 04 00 01 | D | C A4 | R 3F | S 01 02 90 00 | C 61 02 | "
      "R 00 A4 04 00 01 | D | C A4 | R 3F | S 90 00 | C 90 00", 2, 0, 0, 0, 0 },
    { "case 2, error without data", false, false,
      "R 00 B0 00 00 05 | S 6A 82 | C 6A 82", 1, 0, 0, 0, 0 },
    { "case 2, single-byte ACKs", true, false,
      "R 00 B0 00 00 03 | S 01 02 03 90 00 | C 4F 01 4F 02 4F 03 90 00",
      1, 0, 0, 0, 0 },
    { "case 3, ACK and data", false, false,
      "R 00 D6 00 00 02 | D | C D6 | R AA BB | L 00 D6 00 00 02 AA BB | "
      "S 90 00 | C 90 00", 1, 0, 0, 0, 0 },
    { "case 3, single-byte ACKs", true, false,
      "R 00 D6 00 00 03 | D | C 29 | R AA | C 29 | R BB | C 29 | R CC | "
      "L 00 D6 00 00 03 AA BB CC | S 90 00 | C 90 00", 1, 0, 0, 0, 0 },
    { "case 4, 61xx and GET RESPONSE", false, false,
      "R 00 A4 04 00 02 | D | C A4 | R 3F 00 | S 6F 02 84 00 90 00 | C 61 04 | "
      "R 00 C0 00 00 04 | C C0 6F 02 84 00 90 00", 2, 1, 0, 0, 0 },
    { "case 4, GET RESPONSE for less: 61 rest", false, false,
      "R 00 A4 04 00 02 | D | C A4 | R 3F 00 | S 6F 02 84 00 90 00 | C 61 04 | "
      "R 00 C0 00 00 02 | C C0 6F 02 61 02 | R 00 C0 00 00 02 | C C0 84 00 90 00",
      3, 2, 0, 0, 0 },
    { "case 4, GET RESPONSE for more: 6Cxx", false, false,
      "R 00 A4 04 00 02 | D | C A4 | R 3F 00 | S 6F 02 84 00 90 00 | C 61 04 | "
      "R 00 C0 00 00 08 | C 6C 04 | R 00 C0 00 00 04 | C C0 6F 02 84 00 90 00",
      3, 2, 1, 0, 0 },
    { "case 4, warning after the data (61xx first)", false, false,
      "R 00 A4 04 00 01 | D | C A4 | R 3F | S 01 02 62 83 | C 61 02 | "
      "R 00 C0 00 00 02 | C C0 01 02 62 83", 2, 1, 0, 0, 0 },
    { "case 4, warning first (EMV card)", false, true,
      "R 00 A4 04 00 01 | D | C A4 | R 3F | S 01 02 62 83 | C 62 83 | "
      "R 00 C0 00 00 00 | C 6C 02 | R 00 C0 00 00 02 | C C0 01 02 90 00",
      3, 2, 1, 0, 0 },
    { "NULL bytes for a slow command", false, false,
      "R 00 D6 00 00 01 | N | C 60 | D | C D6 | R AA | N | C 60 | N | C 60 | "
      "S 90 00 | C 90 00", 1, 0, 0, 3, 0 },
    { "invalid INS 6X answered 6D00", false, false,
      "R 00 6A 00 00 00 | C 6D 00", 1, 0, 0, 0, 0 },
    { "kept response dropped by another command", false, false,
      "R 00 A4 04 00 01 | D | C A4 | R 3F | S 01 02 90 00 | C 61 02 | "
      "R 00 B0 00 00 02 | H | S 6A 82 | C 6A 82 | R 00 C0 00 00 02 | H",
      3, 0, 0, 0, 0 },
    { "ENVELOPE counted", false, false,
      "R 00 C2 00 00 01 | D | C C2 | R 00 | S 90 00 | C 90 00", 1, 0, 0, 0, 1 },
};

static void card_vector(const struct card_vec *v, size_t chunk)
{
    struct cl_t0 t0;
    struct cl_t0_config cfg;
    uint8_t cmd[260];
    int err;

    cl_t0_config_default(&cfg, CL_T0_ROLE_CARD);
    cfg.single_byte_ack = v->sba;
    cfg.warning_first = v->wfirst;
    ck_assert_int_eq(cl_t0_setup(&t0, &cfg), CL_OK);
    ck_assert_int_eq(cl_t0_want(&t0), CL_T0_IDLE);
    ck_assert_int_eq(cl_t0_card_listen(&t0, cmd, sizeof(cmd)), CL_OK);
    ck_assert_uint_eq(cl_t0_timer(&t0), CL_TIMER_NONE);
    err = run_transcript(&t0, v->line, true, chunk);
    ck_assert_int_eq(err, 0);
    check_stats(&t0, v->tpdus, v->grs, v->reissues, v->nulls, v->envs);
}

START_TEST(test_card_vectors)
{
    card_vector(&cvec[_i], (size_t)-1);
}
END_TEST

START_TEST(test_card_vectors_bytewise)
{
    card_vector(&cvec[_i], 1);
}
END_TEST

/* The command buffer content is checked by the C segment's length; check
 * the bytes here once. */
START_TEST(test_card_command_bytes)
{
    struct cl_t0 t0;
    struct cl_t0_config cfg;
    uint8_t cmd[8];

    cl_t0_config_default(&cfg, CL_T0_ROLE_CARD);
    ck_assert_int_eq(cl_t0_setup(&t0, &cfg), CL_OK);
    ck_assert_int_eq(cl_t0_card_listen(&t0, cmd, sizeof(cmd)), CL_OK);
    run_transcript(&t0, "R 80 E2 00 00 03 | D | C E2 | R 01 02 03", true, 64);
    ck_assert_int_eq(cl_t0_want(&t0), CL_T0_APDU);
    ck_assert_int_eq(cl_t0_result(&t0), 8);
    cl_assert_bytes(cmd, 8, "80 E2 00 00 03 01 02 03");
    /* a command longer than the buffer: refused, the app answers 6700 */
    run_transcript(&t0, "S 90 00 | C 90 00 | R 80 E2 00 00 04", true, 64);
    ck_assert_int_eq(cl_t0_card_receive(&t0), CL_ERR_BUFFER);
    ck_assert_int_eq(cl_t0_want(&t0), CL_T0_HEADER);
    run_transcript(&t0, "S 67 00 | C 67 00", true, 64);
    ck_assert_int_eq(cl_t0_want(&t0), CL_T0_RECV);
    /* P3 = 0 with receive: APDU at once with the header alone */
    run_transcript(&t0, "R 80 E2 00 00 00 | D | L 80 E2 00 00 00", true, 64);
    ck_assert_int_eq(cl_t0_want(&t0), CL_T0_APDU);
}
END_TEST

START_TEST(test_card_errors)
{
    struct cl_t0 t0;
    struct cl_t0_config cfg;
    uint8_t cmd[260], b = 0;
    const uint8_t bad60[] = { 0x60, 0x00 }, badsw[] = { 0x12, 0x34 };

    cl_t0_config_default(&cfg, CL_T0_ROLE_CARD);
    ck_assert_int_eq(cl_t0_setup(&t0, &cfg), CL_OK);
    ck_assert_int_eq(cl_t0_card_listen(&t0, NULL, 5), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_card_listen(&t0, cmd, 4), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_feed(&t0, &b, 1), CL_ERR_STATE);      /* IDLE */
    ck_assert_int_eq(cl_t0_card_receive(&t0), CL_ERR_STATE);
    ck_assert_int_eq(cl_t0_card_null(&t0), CL_ERR_STATE);
    ck_assert_int_eq(cl_t0_card_respond(&t0, badsw, 2), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_card_respond(&t0, bad60, 2), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_card_respond(&t0, bad60, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_card_respond(&t0, NULL, 2), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_card_listen(&t0, cmd, sizeof(cmd)), CL_OK);
    ck_assert_int_eq(cl_t0_card_listen(&t0, cmd, sizeof(cmd)), CL_ERR_STATE);
    cmd[0] = 0x90;
    cmd[1] = 0x00;
    ck_assert_int_eq(cl_t0_card_respond(&t0, cmd, 2), CL_ERR_STATE);
    ck_assert_int_eq(cl_t0_timeout(&t0), CL_ERR_STATE);           /* no timer */
    ck_assert_int_eq(cl_t0_transmit_start(&t0, cmd, 4, cmd, 4), CL_ERR_STATE);
    /* out of turn: bytes while the application has the header */
    run_transcript(&t0, "R 00 B0 00 00 01", true, 64);
    ck_assert_int_eq(cl_t0_want(&t0), CL_T0_HEADER);
    ck_assert_int_eq(cl_t0_feed(&t0, &b, 1), CL_ERR_PROTOCOL);
    ck_assert_int_eq(cl_t0_want(&t0), CL_T0_DEACTIVATE);
    ck_assert_int_eq(cl_t0_error(&t0), CL_ERR_PROTOCOL);
    /* parity error: mute until setup */
    ck_assert_int_eq(cl_t0_setup(&t0, &cfg), CL_OK);
    ck_assert_int_eq(cl_t0_card_listen(&t0, cmd, sizeof(cmd)), CL_OK);
    run_transcript(&t0, "R 00 B0 | P", true, 64);
    ck_assert_int_eq(cl_t0_want(&t0), CL_T0_DEACTIVATE);
    ck_assert_int_eq(cl_t0_error(&t0), CL_ERR_PARITY);
    ck_assert_int_eq(cl_t0_parity_error(&t0), CL_ERR_STATE);
}
END_TEST
#endif /* CL_T0_CARD */

/* ------------------------------------------------------------------ API */

START_TEST(test_api_errors)
{
    struct cl_t0 t0;
    struct cl_t0_config cfg;
    uint8_t resp[300], b = 0x90;
    const uint8_t c1[] = { 0x00, 0x70, 0x00, 0x00 };
    const uint8_t c2[] = { 0x00, 0xB0, 0x00, 0x00, 0x00 };
    const uint8_t c6x[] = { 0x00, 0x6A, 0x00, 0x00 };
    const uint8_t cbad[] = { 0x00, 0xB0, 0x00, 0x00, 0x00, 0x01 };
    const uint8_t *p = &b;

    /* NULL tolerance */
    cl_t0_reset(NULL);
    cl_t0_free(NULL);
    cl_t0_config_default(NULL, CL_T0_ROLE_READER);
    ck_assert_int_eq(cl_t0_want(NULL), CL_WANT_FAILED);
    ck_assert_ptr_null(cl_t0_stats(NULL));
    ck_assert_uint_eq(cl_t0_timer(NULL), CL_TIMER_NONE);
    ck_assert_uint_eq(cl_t0_pull(NULL, &p), 0);
    ck_assert_int_eq(cl_t0_sent(NULL, 0), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_feed(NULL, &b, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_timeout(NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_parity_error(NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_result(NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_error(NULL), CL_ERR_ARG);
#if CL_T0_CARD
    ck_assert_int_eq(cl_t0_card_receive(NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_card_null(NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_card_respond(NULL, resp, 2), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_card_listen(NULL, resp, 5), CL_ERR_ARG);
#endif
    ck_assert_int_eq(cl_t0_transmit_start(NULL, c1, 4, resp, 2), CL_ERR_ARG);

    /* setup */
    ck_assert_int_eq(cl_t0_setup(NULL, &cfg), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_setup(&t0, NULL), CL_ERR_ARG);
    cl_t0_config_default(&cfg, CL_T0_ROLE_READER);
    cfg.d = 3;                                  /* not a Di */
    ck_assert_int_eq(cl_t0_setup(&t0, &cfg), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_transmit_start(&t0, c1, 4, resp, 2), CL_ERR_STATE);
    cfg.d = 1;
    cfg.role = 2;
    ck_assert_int_eq(cl_t0_setup(&t0, &cfg), CL_ERR_ARG);
    cl_t0_config_default(&cfg, CL_T0_ROLE_READER);
    cfg.wi = 20;
    cfg.d = 2;
    ck_assert_int_eq(cl_t0_setup(&t0, &cfg), CL_OK);
    ck_assert_int_eq(cl_t0_want(&t0), CL_T0_IDLE);
    ck_assert_uint_eq(cl_t0_timer(&t0), CL_TIMER_NONE);   /* not in RECV */

    /* start errors leave the engine unchanged */
    ck_assert_int_eq(cl_t0_transmit_start(&t0, NULL, 4, resp, 2), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_transmit_start(&t0, c1, 4, NULL, 2), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_transmit_start(&t0, c1, 3, resp, 2), CL_ERR_TRUNCATED);
    ck_assert_int_eq(cl_t0_transmit_start(&t0, cbad, 6, resp, 300), CL_ERR_MALFORMED);
    ck_assert_int_eq(cl_t0_transmit_start(&t0, c6x, 4, resp, 2), CL_ERR_RESERVED);
    ck_assert_int_eq(cl_t0_transmit_start(&t0, c1, 4, resp, 1), CL_ERR_BUFFER);
    ck_assert_int_eq(cl_t0_transmit_start(&t0, c2, 5, resp, 257), CL_ERR_BUFFER);
    ck_assert_int_eq(cl_t0_want(&t0), CL_T0_IDLE);
    ck_assert_int_eq(cl_t0_sent(&t0, 0), CL_ERR_STATE);
    ck_assert_int_eq(cl_t0_timeout(&t0), CL_ERR_STATE);
    ck_assert_int_eq(cl_t0_parity_error(&t0), CL_ERR_STATE);
    ck_assert_int_eq(cl_t0_feed(&t0, &b, 1), CL_ERR_STATE);
#if CL_T0_CARD
    ck_assert_int_eq(cl_t0_card_listen(&t0, resp, 5), CL_ERR_STATE);
#endif
    ck_assert_int_eq(cl_t0_result(&t0), CL_ERR_STATE);

    ck_assert_int_eq(cl_t0_transmit_start(&t0, c2, 5, resp, 258), CL_OK);
    ck_assert_int_eq(cl_t0_transmit_start(&t0, c2, 5, resp, 258), CL_ERR_STATE);
    ck_assert_uint_eq(cl_t0_pull(&t0, NULL), 0);
    ck_assert_uint_eq(cl_t0_pull(&t0, &p), 5);
    ck_assert_int_eq(cl_t0_sent(&t0, 6), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_feed(&t0, NULL, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_feed(&t0, NULL, 0), 0);
    ck_assert_int_eq(cl_t0_sent(&t0, 2), CL_OK);
    ck_assert_uint_eq(cl_t0_pull(&t0, &p), 3);
    ck_assert_uint_eq(p[0], 0x00);
    ck_assert_int_eq(cl_t0_sent(&t0, 3), CL_OK);
    ck_assert_int_eq(cl_t0_want(&t0), CL_T0_RECV);
    ck_assert_uint_eq(cl_t0_pull(&t0, &p), 0);
    ck_assert_ptr_null(p);
    /* WT = 960 * D * WI = 960 * 2 * 20 */
    ck_assert_uint_eq(cl_t0_timer(&t0), 38400u);
#if CL_T0_CARD
    ck_assert_int_eq(cl_t0_card_respond(&t0, c2 + 4, 1), CL_ERR_ARG);
    {
        const uint8_t ok[] = { 0x90, 0x00 };
        ck_assert_int_eq(cl_t0_card_respond(&t0, ok, 2), CL_ERR_STATE);
    }
#endif
    ck_assert_int_eq(cl_t0_feed(&t0, &b, 1), 1);          /* SW1 90 */
    b = 0;
    ck_assert_int_eq(cl_t0_feed(&t0, &b, 1), 1);          /* SW2 00 */
    ck_assert_int_eq(cl_t0_want(&t0), CL_T0_DONE);
    ck_assert_int_eq(cl_t0_result(&t0), 2);
    cl_assert_bytes(resp, 2, "90 00");
    ck_assert_int_eq(cl_t0_error(&t0), CL_OK);
    /* DONE: the next exchange may start */
    ck_assert_int_eq(cl_t0_transmit_start(&t0, c1, 4, resp, 2), CL_OK);
    /* reset: the protocol's (the card's reset), configuration kept */
    cl_t0_reset(&t0);
    ck_assert_int_eq(cl_t0_want(&t0), CL_WANT_IDLE);
    ck_assert_uint_eq(cl_t0_stats(&t0)->tpdus, 0);
    ck_assert_int_eq(cl_t0_transmit_start(&t0, c1, 4, resp, 2), CL_OK);
    ck_assert_int_eq(cl_t0_want(&t0), CL_WANT_SEND);
    /* a failed engine is back to IDLE after reset, its error gone */
    ck_assert_int_eq(cl_t0_sent(&t0, 5), CL_OK);
    ck_assert_uint_eq(cl_t0_timer(&t0), 38400u);   /* WI 40 */
    ck_assert_int_eq(cl_t0_timeout(&t0), CL_OK);
    ck_assert_int_eq(cl_t0_want(&t0), CL_WANT_FAILED);
    ck_assert_uint_eq(cl_t0_timer(&t0), CL_TIMER_NONE);
    cl_t0_reset(&t0);
    ck_assert_int_eq(cl_t0_error(&t0), CL_OK);
    ck_assert_int_eq(cl_t0_want(&t0), CL_WANT_IDLE);
    /* free wipes: IDLE, and nothing starts until setup */
    cl_t0_free(&t0);
    ck_assert_int_eq(cl_t0_want(&t0), CL_WANT_IDLE);
    ck_assert_int_eq(cl_t0_transmit_start(&t0, c1, 4, resp, 2), CL_ERR_STATE);
    cl_t0_reset(&t0);
    ck_assert_int_eq(cl_t0_transmit_start(&t0, c1, 4, resp, 2), CL_ERR_STATE);
}
END_TEST

/* The API wall (issue 11 §3): every call in every state, as a table of
 * {state, call, expected}. Each row puts a fresh engine into its state and
 * makes the one call: an int call's result, want(), timer() (etu), pull()'s
 * count. */
enum t0_wall_state {
    W0_NULL,            /* a NULL engine */
    W0_R_IDLE,          /* reader set up, nothing started */
    W0_R_SEND,          /* reader: a case 2 header to send */
    W0_R_RECV,          /* reader: header sent, waiting for a procedure byte */
    W0_R_DONE,          /* reader: 90 00 arrived */
    W0_R_FAILED,        /* reader: WT expired */
    W0_FREED,           /* reader set up, then cl_t0_free() */
#if CL_T0_CARD
    W0_C_IDLE,          /* card set up, not listening */
    W0_C_RECV,          /* card listening for a header */
    W0_C_HEADER,        /* card: a header arrived, the application's turn */
    W0_C_SEND,          /* card: its 90 00 going out */
    W0_C_FAILED,        /* card: a parity error on the header */
#endif
    W0_STATES
};

enum t0_wall_call {
    V0_WANT, V0_TIMER, V0_PULL, V0_SENT1, V0_FEED1, V0_TIMEOUT, V0_PARITY, V0_RESULT,
    V0_ERROR, V0_START,
#if CL_T0_CARD
    V0_LISTEN, V0_RECEIVE, V0_NULL, V0_RESPOND,
#endif
    V0_CALLS
};

static const struct {
    uint8_t state, call;
    long expected;
} t0_wall[] = {
    /* NULL: CL_ERR_ARG, want FAILED, timer none, nothing to pull */
    { W0_NULL, V0_WANT, CL_WANT_FAILED }, { W0_NULL, V0_TIMER, CL_TIMER_NONE },
    { W0_NULL, V0_PULL, 0 }, { W0_NULL, V0_SENT1, CL_ERR_ARG },
    { W0_NULL, V0_FEED1, CL_ERR_ARG }, { W0_NULL, V0_TIMEOUT, CL_ERR_ARG },
    { W0_NULL, V0_PARITY, CL_ERR_ARG }, { W0_NULL, V0_RESULT, CL_ERR_ARG },
    { W0_NULL, V0_ERROR, CL_ERR_ARG }, { W0_NULL, V0_START, CL_ERR_ARG },
#if CL_T0_CARD
    { W0_NULL, V0_LISTEN, CL_ERR_ARG }, { W0_NULL, V0_RECEIVE, CL_ERR_ARG },
    { W0_NULL, V0_NULL, CL_ERR_ARG }, { W0_NULL, V0_RESPOND, CL_ERR_ARG },
#endif
    /* reader, idle */
    { W0_R_IDLE, V0_WANT, CL_WANT_IDLE }, { W0_R_IDLE, V0_TIMER, CL_TIMER_NONE },
    { W0_R_IDLE, V0_PULL, 0 }, { W0_R_IDLE, V0_SENT1, CL_ERR_STATE },
    { W0_R_IDLE, V0_FEED1, CL_ERR_STATE }, { W0_R_IDLE, V0_TIMEOUT, CL_ERR_STATE },
    { W0_R_IDLE, V0_PARITY, CL_ERR_STATE }, { W0_R_IDLE, V0_RESULT, CL_ERR_STATE },
    { W0_R_IDLE, V0_ERROR, CL_OK }, { W0_R_IDLE, V0_START, CL_OK },
#if CL_T0_CARD
    { W0_R_IDLE, V0_LISTEN, CL_ERR_STATE }, { W0_R_IDLE, V0_RECEIVE, CL_ERR_STATE },
    { W0_R_IDLE, V0_NULL, CL_ERR_STATE }, { W0_R_IDLE, V0_RESPOND, CL_ERR_STATE },
#endif
    /* reader, the header going out: a byte from the card now is out of turn */
    { W0_R_SEND, V0_WANT, CL_WANT_SEND }, { W0_R_SEND, V0_TIMER, CL_TIMER_NONE },
    { W0_R_SEND, V0_PULL, 5 }, { W0_R_SEND, V0_SENT1, CL_OK },
    { W0_R_SEND, V0_FEED1, CL_ERR_PROTOCOL }, { W0_R_SEND, V0_TIMEOUT, CL_ERR_STATE },
    { W0_R_SEND, V0_PARITY, CL_ERR_STATE }, { W0_R_SEND, V0_RESULT, CL_ERR_STATE },
    { W0_R_SEND, V0_ERROR, CL_OK }, { W0_R_SEND, V0_START, CL_ERR_STATE },
#if CL_T0_CARD
    { W0_R_SEND, V0_LISTEN, CL_ERR_STATE }, { W0_R_SEND, V0_RECEIVE, CL_ERR_STATE },
    { W0_R_SEND, V0_NULL, CL_ERR_STATE }, { W0_R_SEND, V0_RESPOND, CL_ERR_STATE },
#endif
    /* reader, waiting: WT = 960 x D x WI = 9,600 etu at the defaults */
    { W0_R_RECV, V0_WANT, CL_WANT_RECV }, { W0_R_RECV, V0_TIMER, 9600 },
    { W0_R_RECV, V0_PULL, 0 }, { W0_R_RECV, V0_SENT1, CL_ERR_STATE },
    { W0_R_RECV, V0_FEED1, 1 }, { W0_R_RECV, V0_TIMEOUT, CL_OK },
    { W0_R_RECV, V0_PARITY, CL_OK }, { W0_R_RECV, V0_RESULT, CL_ERR_STATE },
    { W0_R_RECV, V0_ERROR, CL_OK }, { W0_R_RECV, V0_START, CL_ERR_STATE },
#if CL_T0_CARD
    { W0_R_RECV, V0_LISTEN, CL_ERR_STATE }, { W0_R_RECV, V0_RECEIVE, CL_ERR_STATE },
    { W0_R_RECV, V0_NULL, CL_ERR_STATE }, { W0_R_RECV, V0_RESPOND, CL_ERR_STATE },
#endif
    /* reader, done: the result is the response's length; the next may start;
     * a byte more from the card is stale (issue 11 §4): PROTOCOL */
    { W0_R_DONE, V0_WANT, CL_WANT_DONE }, { W0_R_DONE, V0_TIMER, CL_TIMER_NONE },
    { W0_R_DONE, V0_PULL, 0 }, { W0_R_DONE, V0_SENT1, CL_ERR_STATE },
    { W0_R_DONE, V0_FEED1, CL_ERR_PROTOCOL }, { W0_R_DONE, V0_TIMEOUT, CL_ERR_STATE },
    { W0_R_DONE, V0_PARITY, CL_ERR_STATE }, { W0_R_DONE, V0_RESULT, 2 },
    { W0_R_DONE, V0_ERROR, CL_OK }, { W0_R_DONE, V0_START, CL_OK },
#if CL_T0_CARD
    { W0_R_DONE, V0_LISTEN, CL_ERR_STATE }, { W0_R_DONE, V0_RECEIVE, CL_ERR_STATE },
    { W0_R_DONE, V0_NULL, CL_ERR_STATE }, { W0_R_DONE, V0_RESPOND, CL_ERR_STATE },
#endif
    /* reader, failed: the sticky error, nothing else */
    { W0_R_FAILED, V0_WANT, CL_WANT_FAILED }, { W0_R_FAILED, V0_TIMER, CL_TIMER_NONE },
    { W0_R_FAILED, V0_PULL, 0 }, { W0_R_FAILED, V0_SENT1, CL_ERR_STATE },
    { W0_R_FAILED, V0_FEED1, CL_ERR_STATE }, { W0_R_FAILED, V0_TIMEOUT, CL_ERR_STATE },
    { W0_R_FAILED, V0_PARITY, CL_ERR_STATE }, { W0_R_FAILED, V0_RESULT, CL_ERR_STATE },
    { W0_R_FAILED, V0_ERROR, CL_ERR_TIMEOUT }, { W0_R_FAILED, V0_START, CL_ERR_STATE },
#if CL_T0_CARD
    { W0_R_FAILED, V0_LISTEN, CL_ERR_STATE }, { W0_R_FAILED, V0_RECEIVE, CL_ERR_STATE },
    { W0_R_FAILED, V0_NULL, CL_ERR_STATE }, { W0_R_FAILED, V0_RESPOND, CL_ERR_STATE },
#endif
    /* freed: idle and unusable until setup */
    { W0_FREED, V0_WANT, CL_WANT_IDLE }, { W0_FREED, V0_TIMER, CL_TIMER_NONE },
    { W0_FREED, V0_PULL, 0 }, { W0_FREED, V0_SENT1, CL_ERR_STATE },
    { W0_FREED, V0_FEED1, CL_ERR_STATE }, { W0_FREED, V0_TIMEOUT, CL_ERR_STATE },
    { W0_FREED, V0_PARITY, CL_ERR_STATE }, { W0_FREED, V0_RESULT, CL_ERR_STATE },
    { W0_FREED, V0_ERROR, CL_OK }, { W0_FREED, V0_START, CL_ERR_STATE },
#if CL_T0_CARD
    { W0_FREED, V0_LISTEN, CL_ERR_STATE }, { W0_FREED, V0_RECEIVE, CL_ERR_STATE },
    { W0_FREED, V0_NULL, CL_ERR_STATE }, { W0_FREED, V0_RESPOND, CL_ERR_STATE },
    /* card, set up: only listen() */
    { W0_C_IDLE, V0_WANT, CL_WANT_IDLE }, { W0_C_IDLE, V0_TIMER, CL_TIMER_NONE },
    { W0_C_IDLE, V0_PULL, 0 }, { W0_C_IDLE, V0_SENT1, CL_ERR_STATE },
    { W0_C_IDLE, V0_FEED1, CL_ERR_STATE }, { W0_C_IDLE, V0_TIMEOUT, CL_ERR_STATE },
    { W0_C_IDLE, V0_PARITY, CL_ERR_STATE }, { W0_C_IDLE, V0_RESULT, CL_ERR_STATE },
    { W0_C_IDLE, V0_ERROR, CL_OK }, { W0_C_IDLE, V0_START, CL_ERR_STATE },
    { W0_C_IDLE, V0_LISTEN, CL_OK }, { W0_C_IDLE, V0_RECEIVE, CL_ERR_STATE },
    { W0_C_IDLE, V0_NULL, CL_ERR_STATE }, { W0_C_IDLE, V0_RESPOND, CL_ERR_STATE },
    /* card, listening: bytes of a header; the card has no timer */
    { W0_C_RECV, V0_WANT, CL_WANT_RECV }, { W0_C_RECV, V0_TIMER, CL_TIMER_NONE },
    { W0_C_RECV, V0_PULL, 0 }, { W0_C_RECV, V0_SENT1, CL_ERR_STATE },
    { W0_C_RECV, V0_FEED1, 1 }, { W0_C_RECV, V0_TIMEOUT, CL_ERR_STATE },
    { W0_C_RECV, V0_PARITY, CL_OK }, { W0_C_RECV, V0_RESULT, CL_ERR_STATE },
    { W0_C_RECV, V0_ERROR, CL_OK }, { W0_C_RECV, V0_START, CL_ERR_STATE },
    { W0_C_RECV, V0_LISTEN, CL_ERR_STATE }, { W0_C_RECV, V0_RECEIVE, CL_ERR_STATE },
    { W0_C_RECV, V0_NULL, CL_ERR_STATE }, { W0_C_RECV, V0_RESPOND, CL_ERR_STATE },
    /* card, the header is the application's: receive, NULL or respond */
    { W0_C_HEADER, V0_WANT, CL_WANT_CTRL }, { W0_C_HEADER, V0_TIMER, CL_TIMER_NONE },
    { W0_C_HEADER, V0_PULL, 0 }, { W0_C_HEADER, V0_SENT1, CL_ERR_STATE },
    { W0_C_HEADER, V0_FEED1, CL_ERR_PROTOCOL }, { W0_C_HEADER, V0_TIMEOUT, CL_ERR_STATE },
    { W0_C_HEADER, V0_PARITY, CL_ERR_STATE }, { W0_C_HEADER, V0_RESULT, 5 },
    { W0_C_HEADER, V0_ERROR, CL_OK }, { W0_C_HEADER, V0_START, CL_ERR_STATE },
    { W0_C_HEADER, V0_LISTEN, CL_ERR_STATE }, { W0_C_HEADER, V0_RECEIVE, CL_OK },
    { W0_C_HEADER, V0_NULL, CL_OK }, { W0_C_HEADER, V0_RESPOND, CL_OK },
    /* card, its answer going out: the reader's bytes now are out of turn */
    { W0_C_SEND, V0_WANT, CL_WANT_SEND }, { W0_C_SEND, V0_TIMER, CL_TIMER_NONE },
    { W0_C_SEND, V0_PULL, 2 }, { W0_C_SEND, V0_SENT1, CL_OK },
    { W0_C_SEND, V0_FEED1, CL_ERR_PROTOCOL }, { W0_C_SEND, V0_TIMEOUT, CL_ERR_STATE },
    { W0_C_SEND, V0_PARITY, CL_ERR_STATE }, { W0_C_SEND, V0_RESULT, CL_ERR_STATE },
    { W0_C_SEND, V0_ERROR, CL_OK }, { W0_C_SEND, V0_START, CL_ERR_STATE },
    { W0_C_SEND, V0_LISTEN, CL_ERR_STATE }, { W0_C_SEND, V0_RECEIVE, CL_ERR_STATE },
    { W0_C_SEND, V0_NULL, CL_ERR_STATE }, { W0_C_SEND, V0_RESPOND, CL_ERR_STATE },
    /* card, failed: deactivate */
    { W0_C_FAILED, V0_WANT, CL_WANT_FAILED }, { W0_C_FAILED, V0_TIMER, CL_TIMER_NONE },
    { W0_C_FAILED, V0_PULL, 0 }, { W0_C_FAILED, V0_SENT1, CL_ERR_STATE },
    { W0_C_FAILED, V0_FEED1, CL_ERR_STATE }, { W0_C_FAILED, V0_TIMEOUT, CL_ERR_STATE },
    { W0_C_FAILED, V0_PARITY, CL_ERR_STATE }, { W0_C_FAILED, V0_RESULT, CL_ERR_STATE },
    { W0_C_FAILED, V0_ERROR, CL_ERR_PARITY }, { W0_C_FAILED, V0_START, CL_ERR_STATE },
    { W0_C_FAILED, V0_LISTEN, CL_ERR_STATE }, { W0_C_FAILED, V0_RECEIVE, CL_ERR_STATE },
    { W0_C_FAILED, V0_NULL, CL_ERR_STATE }, { W0_C_FAILED, V0_RESPOND, CL_ERR_STATE },
#endif
};

static struct cl_t0 *t0_wall_put(struct cl_t0 *t0, unsigned state, uint8_t *resp,
                                 size_t resp_size)
{
    static const uint8_t c2[] = { 0x00, 0xB0, 0x00, 0x00, 0x00 };
    struct cl_t0_config cfg;
    const uint8_t *p;
    size_t n;

    if (state == W0_NULL)
        return NULL;
#if CL_T0_CARD
    if (state >= W0_C_IDLE) {
        cl_t0_config_default(&cfg, CL_T0_ROLE_CARD);
        ck_assert_int_eq(cl_t0_setup(t0, &cfg), CL_OK);
        if (state == W0_C_IDLE)
            return t0;
        ck_assert_int_eq(cl_t0_card_listen(t0, resp, resp_size), CL_OK);
        if (state == W0_C_RECV)
            return t0;
        if (state == W0_C_FAILED) {
            ck_assert_int_eq(cl_t0_parity_error(t0), CL_OK);
            return t0;
        }
        ck_assert_int_eq(cl_t0_feed(t0, c2, 5), 5);
        if (state == W0_C_SEND) {
            static const uint8_t ok[] = { 0x90, 0x00 };
            ck_assert_int_eq(cl_t0_card_respond(t0, ok, 2), CL_OK);
        }
        return t0;
    }
#endif
    cl_t0_config_default(&cfg, CL_T0_ROLE_READER);
    ck_assert_int_eq(cl_t0_setup(t0, &cfg), CL_OK);
    if (state == W0_FREED) {
        cl_t0_free(t0);
        return t0;
    }
    if (state == W0_R_IDLE)
        return t0;
    ck_assert_int_eq(cl_t0_transmit_start(t0, c2, 5, resp, resp_size), CL_OK);
    if (state == W0_R_SEND)
        return t0;
    n = cl_t0_pull(t0, &p);
    ck_assert_int_eq(cl_t0_sent(t0, n), CL_OK);
    if (state == W0_R_FAILED)
        ck_assert_int_eq(cl_t0_timeout(t0), CL_OK);
    if (state == W0_R_DONE) {
        static const uint8_t sw[] = { 0x90, 0x00 };
        ck_assert_int_eq(cl_t0_feed(t0, sw, 2), 2);
    }
    return t0;
}

START_TEST(test_api_wall)
{
    static const uint8_t c1[] = { 0x00, 0x70, 0x00, 0x00 }, b90 = 0x90;
#if CL_T0_CARD
    static const uint8_t ok[] = { 0x90, 0x00 };
#endif
    struct cl_t0 e;
    uint8_t resp[300], buf[300];
    const uint8_t *p = NULL;
    long got = 0;
    size_t i;
    bool seen[W0_STATES][V0_CALLS];

    memset(seen, 0, sizeof(seen));
    for (i = 0; i < CL_ARRAY_LEN(t0_wall); i++) {
        struct cl_t0 *t0;

        memset(&e, 0, sizeof(e));
        t0 = t0_wall_put(&e, t0_wall[i].state, buf, sizeof(buf));
        seen[t0_wall[i].state][t0_wall[i].call] = true;
        switch (t0_wall[i].call) {
        case V0_WANT: got = (long)cl_t0_want(t0); break;
        case V0_TIMER: got = (long)cl_t0_timer(t0); break;
        case V0_PULL: got = (long)cl_t0_pull(t0, &p); break;
        case V0_SENT1: got = cl_t0_sent(t0, 1); break;
        case V0_FEED1: got = cl_t0_feed(t0, &b90, 1); break;
        case V0_TIMEOUT: got = cl_t0_timeout(t0); break;
        case V0_PARITY: got = cl_t0_parity_error(t0); break;
        case V0_RESULT: got = cl_t0_result(t0); break;
        case V0_ERROR: got = cl_t0_error(t0); break;
        case V0_START: got = cl_t0_transmit_start(t0, c1, 4, resp, 2); break;
#if CL_T0_CARD
        case V0_LISTEN: got = cl_t0_card_listen(t0, buf, sizeof(buf)); break;
        case V0_RECEIVE: got = cl_t0_card_receive(t0); break;
        case V0_NULL: got = cl_t0_card_null(t0); break;
        case V0_RESPOND: got = cl_t0_card_respond(t0, ok, 2); break;
#endif
        default: ck_abort_msg("row %zu: no such call", i);
        }
        ck_assert_msg(got == t0_wall[i].expected, "row %zu (state %u, call %u): got %ld, want %ld",
                      i, t0_wall[i].state, t0_wall[i].call, got, t0_wall[i].expected);
    }
    cl_assert_wall_complete(&seen[0][0], W0_STATES, V0_CALLS);
}
END_TEST

/* cl_t0_config_default() sets every field, whatever the memory held. */
START_TEST(test_config_default)
{
    struct cl_t0_config cfg;

    memset(&cfg, 0xFF, sizeof(cfg));
    cl_t0_config_default(&cfg, CL_T0_ROLE_READER);
    ck_assert_uint_eq(cfg.role, CL_T0_ROLE_READER);
    ck_assert_uint_eq(cfg.wi, 10);
    ck_assert_uint_eq(cfg.d, 1);
    ck_assert(cfg.warning_get_response);
    ck_assert(!cfg.single_byte_ack);
    ck_assert(!cfg.warning_first);
    cl_t0_config_default(NULL, CL_T0_ROLE_READER);
}
END_TEST

START_TEST(test_context_size)
{
    /* 64 bytes with 32-bit pointers (the budget); here: */
    if (sizeof(void *) == 4)
        ck_assert_uint_le(sizeof(struct cl_t0), 64);
    else
        ck_assert_uint_le(sizeof(struct cl_t0), 80);
}
END_TEST

/* The card role: refused when left out of the build (CL_T0_CARD 0), and
 * then the context is wiped and refuses everything until a good setup. */
START_TEST(test_card_role_option)
{
    struct cl_t0 t0;
    struct cl_t0_config cfg;
    uint8_t resp[8];
    const uint8_t c1[] = { 0x00, 0x70, 0x00, 0x00 };

    cl_t0_config_default(&cfg, CL_T0_ROLE_CARD);
#if CL_T0_CARD
    ck_assert_int_eq(cl_t0_setup(&t0, &cfg), CL_OK);
    ck_assert_int_eq(cl_t0_transmit_start(&t0, c1, 4, resp, 2), CL_ERR_STATE);
#else
    ck_assert_int_eq(cl_t0_setup(&t0, &cfg), CL_ERR_UNSUPPORTED);
    ck_assert_int_eq(cl_t0_want(&t0), CL_T0_IDLE);
    ck_assert_int_eq(cl_t0_transmit_start(&t0, c1, 4, resp, 2), CL_ERR_STATE);
    cfg.role = 2;
    ck_assert_int_eq(cl_t0_setup(&t0, &cfg), CL_ERR_ARG);
#endif
    cl_t0_config_default(&cfg, CL_T0_ROLE_READER);
    ck_assert_int_eq(cl_t0_setup(&t0, &cfg), CL_OK);
    ck_assert_int_eq(cl_t0_transmit_start(&t0, c1, 4, resp, 2), CL_OK);
}
END_TEST

#if CL_T0_CARD
/* ------------------------------------------------------------------
 * Reader against card, in-process, with a test application and a fault
 * injector on the line.
 */
#define PARITY 0x100u

struct q {
    uint16_t v[140000];
    size_t h, t;
};

static struct q r2c, c2r;
static uint32_t rng;
static unsigned fault_rate;    /* per 10000 bytes */
static unsigned fault_kinds = 3;   /* 3: parity, drop, insert; 2: no insert */
static unsigned faults_corrupt, faults_drop, faults_insert;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void qput(struct q *q, unsigned v)
{
    ck_assert_uint_lt(q->t, CL_ARRAY_LEN(q->v));
    q->v[q->t++] = (uint16_t)v;
}

static void line_put(struct q *q, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (fault_rate && rnd() % 10000u < fault_rate) {
            switch (rnd() % fault_kinds) {
            case 0:
                faults_corrupt++;
                qput(q, PARITY);     /* the UART's repetitions failed */
                break;
            case 1:
                faults_drop++;
                break;
            default:
                faults_insert++;
                qput(q, rnd() & 0xFFu);
                qput(q, p[i]);
                break;
            }
        } else {
            qput(q, p[i]);
        }
    }
}

/* Bytes arrive when they arrive: feed every queued byte to an engine in
 * any active state (one not expecting them stops with CL_ERR_PROTOCOL, out
 * of turn, as a card or reader would on a real half-duplex line). */
static bool line_deliver(struct q *q, struct cl_t0 *t0)
{
    bool moved = false;

    while (q->h < q->t && cl_t0_want(t0) != CL_T0_IDLE &&
           cl_t0_want(t0) != CL_T0_DEACTIVATE) {
        if (q->v[q->h] == PARITY) {
            if (cl_t0_parity_error(t0) != CL_OK)    /* out of turn */
                ck_assert_int_ne(cl_t0_want(t0), CL_T0_RECV);
            else
                ck_assert_int_eq(cl_t0_want(t0), CL_T0_DEACTIVATE);
            q->h++;
            if (cl_t0_want(t0) != CL_T0_DEACTIVATE) {
                moved = true;
                continue;
            }
        } else {
            uint8_t b = (uint8_t)q->v[q->h];
            int rc = cl_t0_feed(t0, &b, 1);
            if (rc < 0)     /* the engine caught the fault: it stops */
                ck_assert_int_eq(cl_t0_want(t0), CL_T0_DEACTIVATE);
            q->h++;
        }
        moved = true;
    }
    return moved;
}

/* The test application: INS 01..04 are cases 1..4, C2 an ENVELOPE. */
static uint8_t app_resp[70000], env_buf[70000];
static size_t env_len;

static size_t app_model(const struct cl_apdu *a, uint8_t *out)
{
    size_t n = 0, i;
    uint16_t sw = 0x9000u;

    if (a->p2 & 4u) {                 /* an error: no data */
        out[0] = 0x6A;
        out[1] = 0x82;
        return 2;
    }
    switch (a->ins) {
    case 0x02:
        n = a->p1 | (size_t)(a->p2 & 1u) << 8;
        for (i = 0; i < n; i++)
            out[i] = (uint8_t)(i * 3u + a->p1);
        break;
    case 0x04:
        memcpy(out, a->data, a->nc);
        n = a->nc;
        for (i = 0; i < a->p1; i++)
            out[n++] = (uint8_t)(i ^ a->p2);
        break;
    default:
        break;
    }
    if (a->p2 & 2u)
        sw = 0x6283;
    out[n] = (uint8_t)(sw >> 8);
    out[n + 1] = (uint8_t)sw;
    return n + 2;
}

static unsigned app_nulls;

static void app_step(struct cl_t0 *card, uint8_t *cmd)
{
    enum cl_want w = cl_t0_want(card);
    struct cl_apdu a;
    enum cl_apdu_case c;
    size_t n;

    if (w == CL_T0_HEADER) {
        if (cmd[1] != 0xC2)
            env_len = 0;
        if ((cmd[1] == 0x03 || cmd[1] == 0x04 || cmd[1] == 0xC2) && cmd[4]) {
            ck_assert_int_eq(cl_t0_card_receive(card), CL_OK);
            return;
        }
        if (cmd[1] == 0x01 || cmd[1] == 0x02) {
            memset(&a, 0, sizeof(a));
            a.cla = cmd[0];
            a.ins = cmd[1];
            a.p1 = cmd[2];
            a.p2 = cmd[3];
            n = app_model(&a, app_resp);
        } else {
            app_resp[0] = 0x6D;
            app_resp[1] = 0x00;
            n = 2;
        }
        ck_assert_int_eq(cl_t0_card_respond(card, app_resp, n), CL_OK);
        return;
    }
    if (w != CL_T0_APDU)
        return;
    if (cmd[2] & 0x80u && app_nulls++ % 3u == 0) {   /* slow command */
        ck_assert_int_eq(cl_t0_card_null(card), CL_OK);
        return;
    }
    if (cmd[1] == 0xC2) {
        size_t p3 = cmd[4];
        memcpy(env_buf + env_len, cmd + 5, p3);
        env_len += p3;
        if (cl_apdu_decode(env_buf, env_len, &a, &c) == CL_OK &&
            CL_APDU_CASE_IS_EXTENDED(c) && (a.ins == 0x04) == (c == CL_APDU_CASE_4E)) {
            n = app_model(&a, app_resp);
            env_len = 0;
        } else {
            app_resp[0] = 0x90;
            app_resp[1] = 0x00;
            n = 2;
        }
    } else {
        ck_assert_int_eq(cl_apdu_decode(cmd, (size_t)cl_t0_result(card), &a, &c), CL_OK);
        a.ne = 256;
        n = app_model(&a, app_resp);
    }
    ck_assert_int_eq(cl_t0_card_respond(card, app_resp, n), CL_OK);
}

/* One random command APDU, encoded into out; returns its length. */
static size_t random_apdu(uint8_t *out, struct cl_apdu *a, uint8_t *data)
{
    static const uint8_t ins_of_case[8] = { 0, 1, 2, 3, 4, 2, 3, 4 };
    unsigned c = 1u + rnd() % 7u;
    size_t len, i;
    bool ext = c >= 5;

    a->cla = (rnd() & 1u) ? 0x80 : 0x00;
    a->ins = ins_of_case[c];
    a->p1 = (uint8_t)rnd();
    a->p2 = (uint8_t)(rnd() & 0x8Fu);
    a->nc = 0;
    a->ne = 0;
    a->data = data;
    if (c == 3 || c == 4 || c == 6 || c == 7) {
        a->nc = ext ? 1u + rnd() % 900u : 1u + rnd() % 255u;
        for (i = 0; i < a->nc; i++)
            data[i] = (uint8_t)rnd();
    }
    if (c == 2 || c == 4 || c == 5 || c == 7)
        a->ne = ext ? 1u + rnd() % 900u : 1u + rnd() % 256u;
    ck_assert_int_eq(cl_apdu_encode(a, ext, out, 2000, &len), CL_OK);
    return len;
}

struct soak_counts {
    unsigned ok, wrong, wrong_no_insert, timeout, protocol, parity, other;
};

static void soak(unsigned count, unsigned rate, uint32_t seed,
                 struct soak_counts *sc, struct cl_t0_stats *rs)
{
    struct cl_t0 rd, cd;
    struct cl_t0_config rcfg, ccfg;
    static uint8_t cmd[2000], data[1000], resp[4096], want[4096], ccmd[260];
    struct cl_apdu a;
    unsigned k;
    bool fresh = true;

    rng = seed;
    fault_rate = rate;
    memset(sc, 0, sizeof(*sc));
    memset(rs, 0, sizeof(*rs));
    cl_t0_config_default(&rcfg, CL_T0_ROLE_READER);
    cl_t0_config_default(&ccfg, CL_T0_ROLE_CARD);
    for (k = 0; k < count; k++) {
        size_t clen = random_apdu(cmd, &a, data), wlen;
        unsigned steps = 0, ins0 = faults_insert;
        int rc;

        wlen = app_model(&a, want);
        if (fresh) {
            const struct cl_t0_stats *st = cl_t0_stats(&rd);
            if (k) {
                rs->tpdus += st->tpdus;
                rs->get_responses += st->get_responses;
                rs->reissues += st->reissues;
                rs->nulls += st->nulls;
                rs->envelopes += st->envelopes;
            }
            ccfg.single_byte_ack = (rnd() & 3u) == 0;
            ccfg.warning_first = rnd() & 1u;
            ck_assert_int_eq(cl_t0_setup(&rd, &rcfg), CL_OK);
            ck_assert_int_eq(cl_t0_setup(&cd, &ccfg), CL_OK);
            ck_assert_int_eq(cl_t0_card_listen(&cd, ccmd, sizeof(ccmd)), CL_OK);
            r2c.h = r2c.t = c2r.h = c2r.t = 0;
            env_len = 0;
            fresh = false;
        }
        if (r2c.h == r2c.t)
            r2c.h = r2c.t = 0;
        c2r.h = c2r.t = 0;
        ck_assert_int_eq(cl_t0_transmit_start(&rd, cmd, clen, resp, sizeof(resp)),
                         CL_OK);
        for (;;) {
            bool moved = false;
            enum cl_want w;

            ck_assert_msg(++steps < 1000000u, "APDU %u hangs", k);
            if (cl_t0_want(&rd) == CL_T0_SEND) {
                const uint8_t *p;
                size_t n = cl_t0_pull(&rd, &p);
                line_put(&r2c, p, n);
                ck_assert_int_eq(cl_t0_sent(&rd, n), CL_OK);
                moved = true;
            }
            moved |= line_deliver(&r2c, &cd);
            if (cl_t0_want(&cd) == CL_T0_HEADER || cl_t0_want(&cd) == CL_T0_APDU) {
                app_step(&cd, ccmd);
                moved = true;
            }
            if (cl_t0_want(&cd) == CL_T0_SEND) {
                const uint8_t *p;
                size_t n = cl_t0_pull(&cd, &p);
                line_put(&c2r, p, n);
                ck_assert_int_eq(cl_t0_sent(&cd, n), CL_OK);
                moved = true;
            }
            if (cl_t0_want(&cd) == CL_T0_DEACTIVATE)
                r2c.h = r2c.t;          /* a mute card hears nothing */
            moved |= line_deliver(&c2r, &rd);
            w = cl_t0_want(&rd);
            if (moved)
                continue;
            if (w == CL_T0_RECV)
                ck_assert_int_eq(cl_t0_timeout(&rd), CL_OK);
            else if (w == CL_T0_DONE || w == CL_T0_DEACTIVATE)
                break;
        }
        c2r.h = c2r.t;
        if (cl_t0_want(&rd) == CL_T0_DONE) {
            rc = cl_t0_result(&rd);
            if ((size_t)rc == wlen && memcmp(resp, want, wlen) == 0) {
                sc->ok++;
            } else {
                sc->wrong++;
                if (faults_insert == ins0)
                    sc->wrong_no_insert++;
                if (getenv("T0_TRACE"))
                fprintf(stderr, "t0 soak: APDU %u wrong: sent %s\n", k,
                        cl_test_tohex(cmd, clen < 40 ? clen : 40));
                if (getenv("T0_TRACE"))
                fprintf(stderr, "   got  %s\n", cl_test_tohex(resp, (size_t)rc < 40 ? (size_t)rc : 40));
                if (getenv("T0_TRACE"))
                fprintf(stderr, "   want %s\n", cl_test_tohex(want, wlen < 40 ? wlen : 40));
                {
                    size_t d = 0;
                    while (d < wlen && d < (size_t)rc && resp[d] == want[d])
                        d++;
                    if (getenv("T0_TRACE"))
                    fprintf(stderr, "   len got %d want %zu, first diff at %zu; faults c%u d%u i%u\n",
                            rc, wlen, d, faults_corrupt, faults_drop, faults_insert);
                    if (getenv("T0_TRACE"))
                        fprintf(stderr, "   at diff got %s\n", cl_test_tohex(resp + (d > 4 ? d - 4 : 0), 12));
                    if (getenv("T0_TRACE"))
                        fprintf(stderr, "   at diff want %s\n", cl_test_tohex(want + (d > 4 ? d - 4 : 0), 12));
                }
            }
            /* a card left mid-command fails the next APDU cleanly */
            if (cl_t0_want(&cd) != CL_T0_RECV || r2c.h < r2c.t)
                fresh = true;
            else {
                /* the card must be waiting for a header at its start */
            }
        } else {
            rc = cl_t0_error(&rd);
            if (rc == CL_ERR_TIMEOUT)
                sc->timeout++;
            else if (rc == CL_ERR_PROTOCOL)
                sc->protocol++;
            else if (rc == CL_ERR_PARITY)
                sc->parity++;
            else
                sc->other++;
            fresh = true;       /* deactivate, reactivate */
        }
    }
    {
        const struct cl_t0_stats *st = cl_t0_stats(&rd);
        rs->tpdus += st->tpdus;
        rs->get_responses += st->get_responses;
        rs->reissues += st->reissues;
        rs->nulls += st->nulls;
        rs->envelopes += st->envelopes;
    }
}

START_TEST(test_in_process_clean)
{
    struct soak_counts sc;
    struct cl_t0_stats rs;

    soak(2000, 0, 0x7A0C0DE1u, &sc, &rs);
    printf("t0 in-process, no faults: %u APDUs delivered byte-exact, %u wrong, "
           "%u failed; %u TPDUs, %u GET RESPONSE, %u 6Cxx re-issues, %u NULL, "
           "%u ENVELOPE\n", sc.ok, sc.wrong,
           sc.timeout + sc.protocol + sc.parity + sc.other, rs.tpdus,
           rs.get_responses, rs.reissues, rs.nulls, rs.envelopes);
    fflush(stdout);
    ck_assert_uint_eq(sc.ok, 2000);
    ck_assert_uint_gt(rs.get_responses, 0);
    ck_assert_uint_gt(rs.reissues, 0);
    ck_assert_uint_gt(rs.nulls, 0);
    ck_assert_uint_gt(rs.envelopes, 0);
}
END_TEST

static void print_faults(const char *what, const struct soak_counts *sc,
                         const struct cl_t0_stats *rs)
{
    printf("t0 in-process, %s (%u parity, %u dropped, %u inserted): "
           "%u delivered byte-exact, %u wrong (%u without an inserted byte), "
           "failed cleanly: %u timeout, %u protocol, %u parity, %u other; "
           "%u TPDUs, %u GET RESPONSE, %u re-issues, %u NULL, %u ENVELOPE\n",
           what, faults_corrupt, faults_drop, faults_insert, sc->ok, sc->wrong,
           sc->wrong_no_insert, sc->timeout, sc->protocol, sc->parity,
           sc->other, rs->tpdus, rs->get_responses, rs->reissues, rs->nulls,
           rs->envelopes);
    fflush(stdout);
}

/* Parity errors (repetition failed) and lost characters: every APDU is
 * delivered byte-exact or fails with a clean error. */
START_TEST(test_in_process_faults)
{
    struct soak_counts sc;
    struct cl_t0_stats rs;

    faults_corrupt = faults_drop = faults_insert = 0;
    fault_kinds = 2;
    soak(2000, 100, 0x5EED0001u, &sc, &rs);
    fault_kinds = 3;
    print_faults("1% of bytes corrupted or lost", &sc, &rs);
    ck_assert_uint_eq(sc.ok + sc.timeout + sc.protocol + sc.parity, 2000);
    ck_assert_uint_eq(sc.wrong, 0);
    ck_assert_uint_eq(sc.other, 0);
    ck_assert_uint_gt(sc.ok, 500);
    ck_assert_uint_gt(sc.timeout, 0);
    ck_assert_uint_gt(sc.parity, 0);
}
END_TEST

/* Spurious characters too. T=0 carries no EDC: a spurious character and a
 * lost one in the same data field (or a spurious one that pushes a data
 * byte 60 into the procedure position) leave a response of the right
 * length with wrong bytes that no T=0 receiver can detect. The test counts
 * those and checks that each one involved an inserted character; nothing
 * hangs, nothing crashes, every other APDU is exact or a clean error. */
START_TEST(test_in_process_faults_insert)
{
    struct soak_counts sc;
    struct cl_t0_stats rs;

    faults_corrupt = faults_drop = faults_insert = 0;
    soak(2000, 100, 0x5EED0002u, &sc, &rs);
    print_faults("1% of bytes corrupted, lost or inserted", &sc, &rs);
    ck_assert_uint_eq(sc.ok + sc.wrong + sc.timeout + sc.protocol + sc.parity,
                      2000);
    ck_assert_uint_eq(sc.other, 0);
    ck_assert_uint_eq(sc.wrong_no_insert, 0);
    ck_assert_uint_gt(sc.ok, 500);
}
END_TEST

#endif /* CL_T0_CARD */

#if CL_T0_CARD
/* The APDU-level rules (t0_apdu.c), both roles against each other: a
 * reader behind PC/SC and a card behind vpcd. The application answers
 * every command with resp_n data bytes 00 01 02 ... and 9000. */
struct apdu_pair {
    struct cl_t0_apdu_card k;
    uint8_t kept[300], tpdu[CL_T0_TPDU_MAX], out[CL_T0_OUT_MAX];
    size_t resp_n;
    unsigned app_calls, xfers;
};

static int apdu_xfer(struct apdu_pair *pr, const uint8_t *cmd, size_t len,
                     uint8_t *resp, size_t size, size_t *n)
{
    size_t tl = 0, ol = 0, i;
    int rc = cl_t0_apdu_card_command(&pr->k, cmd, len, pr->tpdu, &tl, pr->out,
                                     &ol);

    pr->xfers++;
    ck_assert_int_ge(rc, 0);
    if (rc == 0) {
        pr->app_calls++;
        for (i = 0; i < pr->resp_n; i++)
            pr->kept[i] = (uint8_t)i;
        pr->kept[i++] = 0x90;
        pr->kept[i++] = 0x00;
        rc = cl_t0_apdu_card_response(&pr->k, pr->kept, i, pr->out, &ol);
        ck_assert_int_ge(rc, 0);
        if (rc == 1) {
            memcpy(pr->out, pr->kept, i);
            ol = i;
        }
    }
    ck_assert_uint_le(ol, size);
    memcpy(resp, pr->out, ol);
    *n = ol;
    return CL_OK;
}

static size_t apdu_run(struct apdu_pair *pr, const char *hex, uint8_t *resp,
                       size_t size)
{
    uint8_t cmd[300];
    struct cl_t0_apdu x;
    size_t len = 0, n, off;
    int cl = cl_test_hex(hex, cmd, sizeof(cmd)), rc;

    ck_assert_int_gt(cl, 0);
    ck_assert_int_eq(cl_t0_apdu_start(&x, cmd, (size_t)cl, size), CL_OK);
    do {
        const uint8_t *c;
        size_t clen = cl_t0_apdu_next(&x, &c, &off);

        ck_assert_int_eq(apdu_xfer(pr, c, clen, resp + off, size - off, &n),
                         CL_OK);
        rc = cl_t0_apdu_answer(&x, resp, n, &len);
        ck_assert_int_ge(rc, 0);
    } while (rc == 1);
    return len;
}

START_TEST(test_apdu_level_rules)
{
    struct apdu_pair pr;
    uint8_t resp[300];
    size_t n;
    struct cl_t0_apdu x;

    memset(&pr, 0, sizeof(pr));
    /* case 4: 61 0C, GET RESPONSE 0C */
    pr.resp_n = 12;
    n = apdu_run(&pr, "00 A4 00 00 02 3F 00", resp, sizeof(resp));
    cl_assert_bytes(resp, n, "00 01 02 03 04 05 06 07 08 09 0A 0B 90 00");
    ck_assert_uint_eq(pr.xfers, 2);
    ck_assert_uint_eq(pr.app_calls, 1);
    /* case 2 with a wrong Le: 6C 05, the header again with P3 05 */
    pr.resp_n = 5;
    pr.xfers = 0;
    n = apdu_run(&pr, "00 B0 00 00 10", resp, sizeof(resp));
    cl_assert_bytes(resp, n, "00 01 02 03 04 90 00");
    ck_assert_uint_eq(pr.xfers, 2);
    /* no room: the 61xx ends the response */
    pr.resp_n = 12;
    n = apdu_run(&pr, "00 A4 00 00 02 3F 00", resp, 2);
    cl_assert_bytes(resp, n, "61 0C");
    /* the card's own answers: INS 6X, a malformed APDU */
    n = apdu_run(&pr, "00 6A 00 00", resp, sizeof(resp));
    cl_assert_bytes(resp, n, "6D 00");
    n = apdu_run(&pr, "00 B0 00 00 02 01", resp, sizeof(resp));
    cl_assert_bytes(resp, n, "67 00");
    /* API */
    ck_assert_int_eq(cl_t0_apdu_start(NULL, resp, 4, 2), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_apdu_start(&x, resp, 3, 2), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_apdu_start(&x, resp, 4, 1), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_apdu_start(&x, resp, 4, 8), CL_OK);
    ck_assert_int_eq(cl_t0_apdu_answer(&x, resp, 1, &n), CL_ERR_PROTOCOL);
    ck_assert_int_eq(cl_t0_apdu_answer(&x, resp, 9, &n), CL_ERR_PROTOCOL);
    cl_t0_apdu_card_reset(NULL);
}
END_TEST

/* The card role of t0_apdu.c step by step (issue 11 §1), exact bytes:
 * what goes to the application as a TPDU, what the card answers itself
 * from the kept response, and when the kept response is dropped. */
struct kcard {
    struct cl_t0_apdu_card k;
    uint8_t app[600], tpdu[CL_T0_TPDU_MAX], out[CL_T0_OUT_MAX];
    size_t tl, ol;
};

/* A command: 1 when the card answered it itself (out), 0 when it is the
 * application's (tpdu, checked against want_tpdu: NULL for "as it is"). */
static int kc_cmd(struct kcard *c, const char *cmd_hex, const char *want_tpdu)
{
    uint8_t cmd[300];
    int n, rc;

    memset(cmd, 0xEE, sizeof(cmd));     /* nothing past the command is read */
    n = cl_test_hex(cmd_hex, cmd, sizeof(cmd));
    ck_assert_int_gt(n, 0);
    rc = cl_t0_apdu_card_command(&c->k, cmd, (size_t)n, c->tpdu, &c->tl, c->out, &c->ol);
    ck_assert_int_ge(rc, 0);
    if (rc == 0) {
        ck_assert_uint_eq(c->ol, 0);
        if (want_tpdu != NULL)
            cl_assert_bytes(c->tpdu, c->tl, want_tpdu);
        else
            ck_assert_uint_eq(c->tl, 0);
    } else {
        ck_assert_uint_eq(c->tl, 0);
    }
    return rc;
}

/* The application answers `data` bytes 00 01 02 ... and 90 00: the
 * card's rc (1: as it is, 0: out). */
static int kc_app(struct kcard *c, size_t data)
{
    size_t i;
    int rc;

    for (i = 0; i < data; i++)
        c->app[i] = (uint8_t)i;
    c->app[data] = 0x90;
    c->app[data + 1] = 0x00;
    rc = cl_t0_apdu_card_response(&c->k, c->app, data + 2, c->out, &c->ol);
    ck_assert_int_ge(rc, 0);
    return rc;
}

START_TEST(test_apdu_card_role)
{
    struct kcard c;
    uint8_t big[CL_RAPDU_MAX + 1];

    memset(&c, 0, sizeof(c));
    /* TPDUs: case 1 (P3 00), case 3 (P3 Lc), case 4 (Le dropped), case 2 */
    ck_assert_int_eq(kc_cmd(&c, "00 70 00 00", "00 70 00 00 00"), 0);
    ck_assert_int_eq(kc_app(&c, 0), 1);                 /* 90 00 as it is */
    ck_assert_int_eq(kc_cmd(&c, "00 D6 00 00 03 AA BB CC", "00 D6 00 00 03 AA BB CC"), 0);
    ck_assert_int_eq(kc_app(&c, 0), 1);
    ck_assert_int_eq(kc_cmd(&c, "80 A4 00 00 02 3F 00 00", "80 A4 00 00 02 3F 00"), 0);
    /* case 4 with data back: 61 0C; GET RESPONSE 05: 5 bytes and 61 07;
     * GET RESPONSE 20: 6C 07; GET RESPONSE 07: the rest and 90 00 */
    ck_assert_int_eq(kc_app(&c, 12), 0);
    cl_assert_bytes(c.out, c.ol, "61 0C");
    ck_assert_int_eq(kc_cmd(&c, "00 C0 00 00 05", NULL), 1);
    cl_assert_bytes(c.out, c.ol, "00 01 02 03 04 61 07");
    ck_assert_int_eq(kc_cmd(&c, "00 C0 00 00 20", NULL), 1);
    cl_assert_bytes(c.out, c.ol, "6C 07");
    ck_assert_int_eq(kc_cmd(&c, "00 C0 00 00 07", NULL), 1);
    cl_assert_bytes(c.out, c.ol, "05 06 07 08 09 0A 0B 90 00");
    /* all of it given: the next GET RESPONSE is the application's */
    ck_assert_int_eq(kc_cmd(&c, "00 C0 00 00 07", "00 C0 00 00 07"), 0);
    ck_assert_int_eq(kc_app(&c, 0), 1);

    /* case 2, Le exactly the data: data and 90 00 at once */
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 05", "00 B0 00 00 05"), 0);
    ck_assert_int_eq(kc_app(&c, 5), 0);
    cl_assert_bytes(c.out, c.ol, "00 01 02 03 04 90 00");
    /* case 2, Le short (03) and long (0A): 6C 05, then the same header
     * with 05 is answered from the kept response; another header is not */
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 03", "00 B0 00 00 03"), 0);
    ck_assert_int_eq(kc_app(&c, 5), 0);
    cl_assert_bytes(c.out, c.ol, "6C 05");
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 05", NULL), 1);
    cl_assert_bytes(c.out, c.ol, "00 01 02 03 04 90 00");
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 0A", "00 B0 00 00 0A"), 0);
    ck_assert_int_eq(kc_app(&c, 5), 0);
    cl_assert_bytes(c.out, c.ol, "6C 05");
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 01 05", "00 B0 00 01 05"), 0);
    ck_assert_int_eq(kc_app(&c, 5), 0);
    cl_assert_bytes(c.out, c.ol, "00 01 02 03 04 90 00");

    /* case 2 with Le 00 (256) and 300 bytes: 256 and 61 2C, then the rest;
     * 512 bytes: 61 00 says 256 more */
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 00", "00 B0 00 00 00"), 0);
    ck_assert_int_eq(kc_app(&c, 300), 0);
    ck_assert_uint_eq(c.ol, 258);
    ck_assert_uint_eq(c.out[255], 0xFF);
    cl_assert_bytes(c.out + 256, 2, "61 2C");
    ck_assert_int_eq(kc_cmd(&c, "00 C0 00 00 2C", NULL), 1);
    ck_assert_uint_eq(c.ol, 46);
    cl_assert_bytes(c.out + 42, 4, "2A 2B 90 00");
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 00", "00 B0 00 00 00"), 0);
    ck_assert_int_eq(kc_app(&c, 512), 0);
    cl_assert_bytes(c.out + 256, 2, "61 00");

    /* INS 6X / 9X: 6D 00, and the kept response is dropped */
    ck_assert_int_eq(kc_cmd(&c, "00 A4 00 00 02 3F 00", "00 A4 00 00 02 3F 00"), 0);
    ck_assert_int_eq(kc_app(&c, 4), 0);
    cl_assert_bytes(c.out, c.ol, "61 04");
    ck_assert_int_eq(kc_cmd(&c, "00 92 00 00", NULL), 1);
    cl_assert_bytes(c.out, c.ol, "6D 00");
    ck_assert_int_eq(kc_cmd(&c, "00 C0 00 00 04", "00 C0 00 00 04"), 0);
    ck_assert_int_eq(kc_app(&c, 0), 1);
    /* a reset drops it too */
    ck_assert_int_eq(kc_cmd(&c, "00 A4 00 00 02 3F 00", "00 A4 00 00 02 3F 00"), 0);
    ck_assert_int_eq(kc_app(&c, 4), 0);
    cl_t0_apdu_card_reset(&c.k);
    ck_assert_int_eq(kc_cmd(&c, "00 C0 00 00 04", "00 C0 00 00 04"), 0);
    ck_assert_int_eq(kc_app(&c, 0), 1);
    /* a 6C 05 header is not served after another command came between */
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 03", "00 B0 00 00 03"), 0);
    ck_assert_int_eq(kc_app(&c, 5), 0);
    ck_assert_int_eq(kc_cmd(&c, "00 D6 00 00 01 AA", "00 D6 00 00 01 AA"), 0);
    ck_assert_int_eq(kc_app(&c, 0), 1);
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 05", "00 B0 00 00 05"), 0);

    /* one data byte is data: 61xx */
    ck_assert_int_eq(kc_cmd(&c, "00 A4 00 00 01 3F", "00 A4 00 00 01 3F"), 0);
    ck_assert_int_eq(kc_app(&c, 4), 0);
    cl_assert_bytes(c.out, c.ol, "61 04");
    /* a command that goes to the application drops the kept response,
     * even when the application then answers only a status */
    ck_assert_int_eq(kc_cmd(&c, "00 70 00 00", "00 70 00 00 00"), 0);
    ck_assert_int_eq(kc_app(&c, 0), 1);
    ck_assert_int_eq(kc_cmd(&c, "00 C0 00 00 04", "00 C0 00 00 04"), 0);
    ck_assert_int_eq(kc_app(&c, 0), 1);
    /* ... and the 6Cxx header it named: a later response kept for another
     * command is not served to that header (after a command, and after a
     * reset) */
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 03", "00 B0 00 00 03"), 0);
    ck_assert_int_eq(kc_app(&c, 4), 0);
    cl_assert_bytes(c.out, c.ol, "6C 04");
    ck_assert_int_eq(kc_cmd(&c, "00 A4 00 00 02 3F 00", "00 A4 00 00 02 3F 00"), 0);
    ck_assert_int_eq(kc_app(&c, 4), 0);
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 04", "00 B0 00 00 04"), 0);
    ck_assert_int_eq(kc_app(&c, 0), 1);
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 03", "00 B0 00 00 03"), 0);
    ck_assert_int_eq(kc_app(&c, 4), 0);
    cl_t0_apdu_card_reset(&c.k);
    ck_assert_int_eq(kc_cmd(&c, "00 A4 00 00 02 3F 00", "00 A4 00 00 02 3F 00"), 0);
    ck_assert_int_eq(kc_app(&c, 4), 0);
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 04", "00 B0 00 00 04"), 0);
    ck_assert_int_eq(kc_app(&c, 0), 1);
    /* Le 10 against exactly 256 bytes: 6C 00; Le 00 against 257: 256 and
     * 61 01; a GET RESPONSE with Le 00 from the kept response: 256 */
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 10", "00 B0 00 00 10"), 0);
    ck_assert_int_eq(kc_app(&c, 256), 0);
    cl_assert_bytes(c.out, c.ol, "6C 00");
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 00", NULL), 1);     /* the re-issue */
    ck_assert_uint_eq(c.ol, 258);
    cl_assert_bytes(c.out + 254, 4, "FE FF 90 00");
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 01 00", "00 B0 00 01 00"), 0);
    ck_assert_int_eq(kc_app(&c, 257), 0);
    cl_assert_bytes(c.out + 256, 2, "61 01");
    ck_assert_int_eq(kc_cmd(&c, "00 A4 00 00 02 3F 00", "00 A4 00 00 02 3F 00"), 0);
    ck_assert_int_eq(kc_app(&c, 300), 0);
    cl_assert_bytes(c.out, c.ol, "61 2C");
    ck_assert_int_eq(kc_cmd(&c, "00 C0 00 00 00", NULL), 1);
    ck_assert_uint_eq(c.ol, 258);
    cl_assert_bytes(c.out + 254, 4, "FE FF 61 2C");
    /* an extended command drops the kept response; the next short one is
     * short again */
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 00 01 00", NULL), 0);
    ck_assert_int_eq(kc_app(&c, 3), 1);
    ck_assert_int_eq(kc_cmd(&c, "00 C0 00 00 2C", "00 C0 00 00 2C"), 0);
    ck_assert_int_eq(kc_app(&c, 0), 1);
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 03", "00 B0 00 00 03"), 0);
    ck_assert_int_eq(kc_app(&c, 5), 0);
    cl_assert_bytes(c.out, c.ol, "6C 05");

    /* extended: as it is, both ways */
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 00 01 00", NULL), 0);
    ck_assert_int_eq(kc_app(&c, 256), 1);
    /* the response's bounds */
    memset(big, 0, sizeof(big));
    ck_assert_int_eq(cl_t0_apdu_card_response(&c.k, big, 1, c.out, &c.ol), CL_ERR_ARG);
    ck_assert_int_eq(cl_t0_apdu_card_response(&c.k, big, CL_RAPDU_MAX + 1, c.out, &c.ol),
                     CL_ERR_ARG);
    ck_assert_int_eq(kc_cmd(&c, "00 B0 00 00 00 01 00", NULL), 0);
    ck_assert_int_eq(cl_t0_apdu_card_response(&c.k, big, CL_RAPDU_MAX, c.out, &c.ol), 1);
}
END_TEST

/* The reader role of t0_apdu.c step by step: the exact GET RESPONSE and
 * re-issued headers, each rule's limit. */
START_TEST(test_apdu_reader_role)
{
    struct cl_t0_apdu x;
    uint8_t cmd[16], resp[64];
    const uint8_t *c;
    size_t off, len;
    int n;

#define START(hex, size)                                                        \
    do {                                                                        \
        n = cl_test_hex((hex), cmd, sizeof(cmd));                               \
        ck_assert_int_eq(cl_t0_apdu_start(&x, cmd, (size_t)n, (size)), CL_OK); \
    } while (0)
/* the card answers hex (written at the offset asked); the rule's rc */
#define ANSWER(hex, rc)                                                         \
    do {                                                                        \
        uint8_t a_[64];                                                         \
        int k_ = cl_test_hex((hex), a_, sizeof(a_));                            \
        (void)cl_t0_apdu_next(&x, &c, &off);                                    \
        memcpy(resp + off, a_, (size_t)k_);                                     \
        ck_assert_int_eq(cl_t0_apdu_answer(&x, resp, (size_t)k_, &len), (rc));  \
    } while (0)
#define NEXT(hex)                                                               \
    do {                                                                        \
        size_t l_ = cl_t0_apdu_next(&x, &c, &off);                              \
        cl_assert_bytes(c, l_, (hex));                                          \
    } while (0)

    /* 61 0C: GET RESPONSE in the command's class, P1 P2 00 00 */
    START("80 A4 04 0C 02 3F 00", sizeof(resp));
    NEXT("80 A4 04 0C 02 3F 00");
    ANSWER("61 0C", 1);
    NEXT("80 C0 00 00 0C");
    ANSWER("00 01 02 03 04 05 06 07 08 09 0A 0B 90 00", 0);
    ck_assert_uint_eq(len, 14);
    ck_assert_uint_eq(resp[0], 0x00);
    /* 61 00 (256) and 61 20 in 10 bytes: Le is the room left (8) */
    START("00 A4 00 00 02 3F 00", 10);
    ANSWER("61 00", 1);
    NEXT("00 C0 00 00 08");
    START("00 A4 00 00 02 3F 00", 10);
    ANSWER("61 20", 1);
    NEXT("00 C0 00 00 08");
    ANSWER("00 01 02 03 04 05 06 07 61 18", 0);    /* no room: it ends there */
    ck_assert_uint_eq(len, 10);
    cl_assert_bytes(resp + 8, 2, "61 18");
    /* 61 05 with exactly 5 + 2 bytes of room */
    START("00 A4 00 00 02 3F 00", 7);
    ANSWER("61 05", 1);
    NEXT("00 C0 00 00 05");
    /* 61 05 with 1 byte of room: Le 01 */
    START("00 A4 00 00 02 3F 00", 3);
    ANSWER("61 05", 1);
    NEXT("00 C0 00 00 01");
    /* a 61xx after a re-issued header: GET RESPONSE with P1 P2 00 00 */
    START("00 B0 01 02 10", sizeof(resp));
    ANSWER("6C 05", 1);
    NEXT("00 B0 01 02 05");
    ANSWER("61 03", 1);
    NEXT("00 C0 00 00 03");
    /* a GET RESPONSE answered with more than the room left */
    START("00 A4 00 00 02 3F 00", 8);
    ANSWER("00 01 61 02", 1);
    NEXT("00 C0 00 00 02");
    ANSWER("02 03 04 05 06 90 00", CL_ERR_PROTOCOL);
    ck_assert_uint_eq(cl_t0_apdu_next(NULL, &c, &off), 0);
    ck_assert_uint_eq(cl_t0_apdu_next(&x, NULL, &off), 0);
    ck_assert_uint_eq(cl_t0_apdu_next(&x, &c, NULL), 0);
    /* a GET RESPONSE that brings nothing: once asked again, then it ends */
    START("00 A4 00 00 02 3F 00", sizeof(resp));
    ANSWER("61 04", 1);
    ANSWER("61 04", 1);
    NEXT("00 C0 00 00 04");
    ANSWER("61 04", 0);
    cl_assert_bytes(resp, len, "61 04");

    /* 6C 05: the header again with P3 05, once */
    START("00 B0 00 00 10", sizeof(resp));
    ANSWER("6C 05", 1);
    NEXT("00 B0 00 00 05");
    ANSWER("6C 03", 0);
    cl_assert_bytes(resp, len, "6C 03");
    /* 6C 00 is 256, more than the room: no re-issue; exactly the room is */
    START("00 B0 00 00 10", 257);
    ANSWER("6C 00", 0);
    START("00 B0 00 00 10", 258);
    ANSWER("6C 00", 1);
    NEXT("00 B0 00 00 00");
    /* not for a command that is not a bare header (case 3), nor with data */
    START("00 D6 00 00 01 AA", sizeof(resp));
    ANSWER("6C 05", 0);
    START("00 B0 00 00 10", sizeof(resp));
    ANSWER("01 6C 05", 0);
    /* after a GET RESPONSE: data in hand, no re-issue */
    START("00 A4 00 00 02 3F 00", sizeof(resp));
    ANSWER("61 02", 1);
    ANSWER("00 01 6C 05", 0);
    ck_assert_uint_eq(len, 4);
#undef START
#undef ANSWER
#undef NEXT
}
END_TEST
#endif

static Suite *t0_suite(void)
{
    Suite *s = suite_create("t0");
    TCase *tc = tcase_create("reader");
#if CL_T0_CARD
    TCase *tcc = tcase_create("card");
    TCase *tcp = tcase_create("in-process");
#endif

    tcase_add_loop_test(tc, test_reader_vectors, 0, (int)CL_ARRAY_LEN(rvec));
    tcase_add_loop_test(tc, test_reader_vectors_bytewise, 0, (int)CL_ARRAY_LEN(rvec));
    tcase_add_test(tc, test_api_errors);
    tcase_add_test(tc, test_api_wall);
    tcase_add_test(tc, test_config_default);
    tcase_add_test(tc, test_context_size);
    tcase_add_test(tc, test_card_role_option);
    suite_add_tcase(s, tc);
#if CL_T0_CARD
    tcase_add_loop_test(tcc, test_card_vectors, 0, (int)CL_ARRAY_LEN(cvec));
    tcase_add_loop_test(tcc, test_card_vectors_bytewise, 0, (int)CL_ARRAY_LEN(cvec));
    tcase_add_test(tcc, test_card_command_bytes);
    tcase_add_test(tcc, test_card_errors);
    tcase_add_test(tcc, test_apdu_level_rules);
    tcase_add_test(tcc, test_apdu_card_role);
    tcase_add_test(tcc, test_apdu_reader_role);
    suite_add_tcase(s, tcc);
    tcase_add_test(tcp, test_in_process_clean);
    tcase_add_test(tcp, test_in_process_faults);
    tcase_add_test(tcp, test_in_process_faults_insert);
    tcase_set_timeout(tcp, 120);
    suite_add_tcase(s, tcp);
#endif
    return s;
}

int main(void)
{
    return cl_test_run(t0_suite());
}
