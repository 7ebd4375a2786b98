/*
 * cardlink — relay protocol codec and stream deframer.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The test vectors are the hex examples of docs/protocol.md, read from the
 * file at run time: blocks "```hex example=NAME" must encode from the C
 * structs built below and decode back byte for byte, blocks
 * "```hex invalid=NAME error=CL_ERR_X" must be rejected with that error.
 * Every example has a builder here and every builder an example, so the
 * document and the code cannot drift apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardlink/apdu.h"
#include "cardlink/error.h"
#include "cardlink/relay_frame.h"
#include "cardlink/relay_msg.h"
#include "cardlink/txn.h"
#include "test_util.h"

#ifndef CL_PROTOCOL_MD
#error "CL_PROTOCOL_MD must name docs/protocol.md"
#endif

/* ------------------------------------------------------------ the document */

#define MAX_BLOCKS 128
#define MAX_MSG 1024

struct block {
    char name[48];
    char same[48];      /* example=X same=Y: decodes to Y's message */
    int invalid;
    int error;
    uint8_t bytes[MAX_MSG];
    size_t len;
};


/* cl_relay_stream_feed() as these tests read it: CL_OK or the error, the
 * bytes used into *used (0 on an error). */
static int dfeed(struct cl_relay_stream *st, const uint8_t *in, size_t n, size_t *used)
{
    int rc = cl_relay_stream_feed(st, in, n);

    *used = rc > 0 ? (size_t)rc : 0;
    return rc >= 0 ? CL_OK : rc;
}

static struct block blocks[MAX_BLOCKS];
static int nblocks = -1;

static const struct {
    const char *name;
    int err;
} err_names[] = {
    { "CL_ERR_MALFORMED", CL_ERR_MALFORMED }, { "CL_ERR_TRUNCATED", CL_ERR_TRUNCATED },
    { "CL_ERR_TRAILING", CL_ERR_TRAILING }, { "CL_ERR_VERSION", CL_ERR_VERSION },
    { "CL_ERR_RESERVED", CL_ERR_RESERVED }, { "CL_ERR_UNSUPPORTED", CL_ERR_UNSUPPORTED },
    { "CL_ERR_TAG", CL_ERR_TAG }, { "CL_ERR_LENGTH", CL_ERR_LENGTH },
    { "CL_ERR_INDEFINITE", CL_ERR_INDEFINITE }, { "CL_ERR_LIMIT", CL_ERR_LIMIT },
    { "CL_ERR_DENIED", CL_ERR_DENIED },
};

static int err_by_name(const char *s)
{
    size_t i;
    for (i = 0; i < CL_ARRAY_LEN(err_names); i++)
        if (strcmp(err_names[i].name, s) == 0)
            return err_names[i].err;
    return 1; /* no such error: fails every comparison */
}

static void attr(const char *line, const char *key, char *out, size_t size)
{
    const char *p = strstr(line, key);
    size_t n = 0;

    out[0] = '\0';
    if (!p)
        return;
    p += strlen(key);
    while (p[n] && p[n] != ' ' && p[n] != '\n' && n + 1 < size)
        n++;
    memcpy(out, p, n);
    out[n] = '\0';
}

static void load_doc(void)
{
    FILE *f;
    char line[512], hex[8192], tmp[48];
    struct block *b = NULL;

    if (nblocks >= 0)
        return;
    nblocks = 0;
    f = fopen(CL_PROTOCOL_MD, "r");
    ck_assert_msg(f != NULL, "cannot open %s", CL_PROTOCOL_MD);
    while (fgets(line, sizeof(line), f)) {
        if (b == NULL && strncmp(line, "```hex ", 7) == 0) {
            ck_assert_int_lt(nblocks, MAX_BLOCKS);
            b = &blocks[nblocks++];
            memset(b, 0, sizeof(*b));
            b->invalid = strstr(line, "invalid=") != NULL;
            attr(line, b->invalid ? "invalid=" : "example=", b->name, sizeof(b->name));
            attr(line, "same=", b->same, sizeof(b->same));
            attr(line, "error=", tmp, sizeof(tmp));
            b->error = b->invalid ? err_by_name(tmp) : CL_OK;
            hex[0] = '\0';
        } else if (b != NULL && strncmp(line, "```", 3) == 0) {
            int n = cl_test_hex(hex, b->bytes, sizeof(b->bytes));
            ck_assert_msg(n > 0, "bad hex in example %s", b->name);
            b->len = (size_t)n;
            b = NULL;
        } else if (b != NULL) {
            char *c = strchr(line, '#');
            if (c)
                *c = '\0';
            ck_assert(strlen(hex) + strlen(line) < sizeof(hex));
            strcat(hex, line);
        }
    }
    fclose(f);
    ck_assert_msg(b == NULL, "unterminated example block");
}

static const struct block *find_block(const char *name)
{
    int i;
    load_doc();
    for (i = 0; i < nblocks; i++)
        if (strcmp(blocks[i].name, name) == 0)
            return &blocks[i];
    return NULL;
}

/* ------------------------------------------------------------ builders */

static uint8_t pool[16384];
static size_t pool_used;

static struct cl_relay_bytes hb(const char *hex)
{
    struct cl_relay_bytes b;
    int n = cl_test_hex(hex, pool + pool_used, sizeof(pool) - pool_used);
    ck_assert_int_ge(n, 0);
    b.data = pool + pool_used;
    b.len = (size_t)n;
    pool_used += (size_t)n;
    return b;
}

static struct cl_relay_bytes tb(const char *text)
{
    struct cl_relay_bytes b;
    b.data = (const uint8_t *)text;
    b.len = strlen(text);
    return b;
}

#define TOKEN "5A 0C 37 E1 94 B2 6D 08 C3 1F 7A 40 9E 55 2B D6"
#define TXNID "3F 2A 91 0C 5B E8 47 D2 A6 13 7C 09 E4 B5 68 F1"
#define SELECT "00 A4 04 00 07 A0 00 00 00 03 10 10 00"
#define VTPL "00 20 00 80 08 24 FF FF FF FF FF FF FF"
/* docs/transaction.md example txn-minimal: its id is TXNID */
#define TXN "E1 32 80 10 3F 2A 91 0C 5B E8 47 D2 A6 13 7C 09 E4 B5 68 F1 81 01 01 " \
    "82 02 30 39 83 03 09 78 02 84 07 20 24 05 01 14 03 00 85 09 43 61 66 65 20 52 6F 73 61"
#define CHAL "C4 5D 19 7A 0B E2 68 F3"
#define ACK CL_RELAY_F_ACK
#define REF CL_RELAY_F_REF

static void hdr(struct cl_relay_msg *m, uint8_t type, uint8_t flags, uint8_t seq,
                uint8_t ack, uint8_t ref)
{
    cl_relay_msg_init(m, type);
    m->flags = flags;
    m->seq = seq;
    m->ack = ack;
    m->ref = ref;
}

static void vpin(struct cl_relay_pin *p)
{
    p->apdu = hb(VTPL);
    p->encoding = CL_RELAY_PIN_ISO9564_2;
    p->min_len = 4;
    p->max_len = 12;
    p->offset = 0;
}

static void b_hello(struct cl_relay_msg *m)
{
    struct cl_relay_caps *c = &m->u.hello.caps;
    hdr(m, CL_RELAY_HELLO, 0, 0, 0, 0);
    m->u.hello.versions = hb("01");
    m->u.hello.device_id = tb("CL-0001");
    c->interfaces = CL_RELAY_IF_T0 | CL_RELAY_IF_T1;
    c->display_cols = 16;
    c->display_rows = 2;
    c->input = CL_RELAY_IN_KEYPAD | CL_RELAY_IN_PINPAD | CL_RELAY_IN_CONFIRM;
    c->max_msg = 1024;
    c->max_cmd_apdu = 261;
    c->max_resp_apdu = 258;
    c->features = 0xFF;
    c->script_steps = 32;
}

static void b_hello_resume(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_HELLO, ACK, 0, 7, 0);
    m->u.hello.versions = hb("01");
    m->u.hello.device_id = tb("CL-0001");
    m->u.hello.caps.interfaces = 3;
    m->u.hello.caps.features = 0xFF;
    m->u.hello.token = hb(TOKEN);
    m->u.hello.software = tb("fw 1.2");
}

static void b_hello_ack(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_HELLO_ACK, 0, 0, 0, 0);
    m->u.hello_ack.version = 1;
    m->u.hello_ack.token = hb(TOKEN);
    m->u.hello_ack.keepalive = 30;
    m->u.hello_ack.max_msg = 2048;
}

static void b_hello_ack_resumed(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_HELLO_ACK, ACK, 0, 12, 0);
    m->u.hello_ack.version = 1;
    m->u.hello_ack.token = hb(TOKEN);
    m->u.hello_ack.flags = CL_RELAY_HELLO_RESUMED;
    m->u.hello_ack.keepalive = 30;
    m->u.hello_ack.max_msg = 2048;
}

static void b_keepalive(struct cl_relay_msg *m) { hdr(m, CL_RELAY_KEEPALIVE, ACK, 0, 5, 0); }

static void b_close(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_CLOSE, 0, 0, 0, 0);
    m->u.status.code = CL_RELAY_E_NONE;
}

static void b_close_version(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_CLOSE, 0, 0, 0, 0);
    m->u.status.code = CL_RELAY_E_VERSION;
    m->u.status.text = tb("need v2");
}

static void b_error_denied(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_ERROR, ACK | REF, 4, 3, 3);
    m->u.status.code = CL_RELAY_E_DENIED;
    m->u.status.text = tb("VERIFY");
}

static void b_card_inserted(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_CARD_INSERTED, 0, 1, 0, 0);
    m->u.card.atr = hb("3B 02 14 50");
    m->u.card.protocol = CL_RELAY_PROTO_T0;
}

static void b_card_removed(struct cl_relay_msg *m) { hdr(m, CL_RELAY_CARD_REMOVED, ACK, 5, 4, 0); }

static void b_reader_status(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_READER_STATUS, 0, 2, 0, 0);
    m->u.reader_status = CL_RELAY_RS_CARD_PRESENT | CL_RELAY_RS_POWERED;
}

static void b_apdu(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_APDU, ACK, 1, 2, 0);
    m->u.apdu.apdu = hb(SELECT);
}

static void b_apdu_response(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_APDU_RESPONSE, ACK | REF, 3, 1, 1);
    m->u.apdu.apdu = hb("6F 07 84 05 A0 00 00 00 03 90 00");
}

static void b_replayed(struct cl_relay_msg *m)
{
    b_apdu_response(m);
    m->flags |= CL_RELAY_F_REPLAY;
}

static void b_apdu_txn(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_APDU, ACK, 2, 3, 0);
    m->u.apdu.apdu = hb("80 52 00 00 08 00 00 27 10 11 22 33 44");
    m->u.apdu.txn_id = hb(TXNID).data;
}

static void b_script(struct cl_relay_msg *m)
{
    struct cl_relay_script *s = &m->u.script;
    hdr(m, CL_RELAY_SCRIPT, ACK, 3, 3, 0);
    s->nsteps = 3;
    s->steps[0].apdu = hb(SELECT);
    s->steps[0].expect.kind = CL_RELAY_EXPECT_EXACT;
    s->steps[0].expect.value = 0x9000;
    s->steps[0].options = CL_RELAY_STEP_SW_ONLY;
    s->steps[1].apdu = hb("00 B2 01 0C 00");
    s->steps[1].expect.kind = CL_RELAY_EXPECT_MASKED;
    s->steps[1].expect.value = 0x6100;
    s->steps[1].expect.mask = 0xFF00;
    s->steps[2].apdu = hb("00 B2 02 0C 00");
}

static void b_script_continue(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_SCRIPT, ACK, 4, 4, 0);
    m->u.script.options = CL_RELAY_SCRIPT_CONTINUE;
    m->u.script.txn_id = hb(TXNID).data;
    m->u.script.nsteps = 1;
    m->u.script.steps[0].apdu = hb("80 CA 9F 36 00");
}

static void b_script_result(struct cl_relay_msg *m)
{
    struct cl_relay_script_result *r = &m->u.script_result;
    hdr(m, CL_RELAY_SCRIPT_RESULT, ACK | REF, 4, 3, 3);
    r->nresp = 3;
    r->resp[0] = hb("90 00");
    r->resp[1] = hb("70 03 5A 01 42 61 10");
    r->resp[2] = hb("70 03 5A 01 43 90 00");
}

static void b_script_result_mismatch(struct cl_relay_msg *m)
{
    struct cl_relay_script_result *r = &m->u.script_result;
    hdr(m, CL_RELAY_SCRIPT_RESULT, ACK | REF, 4, 3, 3);
    r->mismatch = 1;
    r->nresp = 2;
    r->resp[0] = hb("90 00");
    r->resp[1] = hb("6A 83");
}

static void b_script_result_error(struct cl_relay_msg *m)
{
    struct cl_relay_script_result *r = &m->u.script_result;
    hdr(m, CL_RELAY_SCRIPT_RESULT, ACK | REF, 4, 3, 3);
    r->error = CL_RELAY_E_NO_CARD;
    r->nresp = 1;
    r->resp[0] = hb("90 00");
}

static void b_display(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_DISPLAY, ACK, 5, 4, 0);
    m->u.display.text = tb("Insert card");
}

static void b_display_timed(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_DISPLAY, ACK, 5, 4, 0);
    m->u.display.text = tb("Thank you\nGoodbye");
    m->u.display.duration = 5;
}

static void b_display_done(struct cl_relay_msg *m) { hdr(m, CL_RELAY_DISPLAY_DONE, ACK | REF, 6, 5, 5); }

static void b_prompt_yesno(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_PROMPT, ACK, 6, 6, 0);
    m->u.prompt.kind = CL_RELAY_PROMPT_YESNO;
    m->u.prompt.text = tb("Load 100.00?");
    m->u.prompt.timeout = 60;
}

static void b_prompt_numeric(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_PROMPT, ACK, 7, 7, 0);
    m->u.prompt.kind = CL_RELAY_PROMPT_NUMERIC;
    m->u.prompt.text = tb("Ticket count");
    m->u.prompt.min_len = 1;
    m->u.prompt.max_len = 2;
}

static void b_prompt_answer(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_PROMPT_ANSWER, ACK | REF, 8, 7, 7);
    m->u.prompt_answer.result = CL_RELAY_ANSWER_OK;
    m->u.prompt_answer.value = tb("2");
}

static void b_prompt_answer_no(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_PROMPT_ANSWER, ACK | REF, 7, 6, 6);
    m->u.prompt_answer.result = CL_RELAY_ANSWER_NO;
}

static void b_pin_verify(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_PIN_VERIFY, ACK, 8, 8, 0);
    vpin(&m->u.pin);
    m->u.pin.timeout = 30;
}

static void b_pin_verify_bcd(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_PIN_VERIFY, ACK, 8, 8, 0);
    m->u.pin.apdu = hb("00 20 00 01 05 00 FF FF FF FF");
    m->u.pin.encoding = CL_RELAY_PIN_BCD;
    m->u.pin.min_len = 4;
    m->u.pin.max_len = 8;
    m->u.pin.offset = 1;
    m->u.pin.len_offset = 0;
}

static void b_pin_result(struct cl_relay_msg *m, uint8_t type, uint8_t seq, uint16_t sw, uint8_t err)
{
    hdr(m, type, ACK | REF, seq, (uint8_t)(seq - 1), (uint8_t)(seq - 1));
    m->u.pin_result.sw = sw;
    m->u.pin_result.error = err;
}

static void b_pvr(struct cl_relay_msg *m) { b_pin_result(m, CL_RELAY_PIN_VERIFY_RESULT, 9, 0x9000, 0); }
static void b_pvr_wrong(struct cl_relay_msg *m) { b_pin_result(m, CL_RELAY_PIN_VERIFY_RESULT, 9, 0x63C2, 0); }
static void b_pvr_cancel(struct cl_relay_msg *m) { b_pin_result(m, CL_RELAY_PIN_VERIFY_RESULT, 9, 0, CL_RELAY_E_CANCELLED); }
static void b_pcr(struct cl_relay_msg *m) { b_pin_result(m, CL_RELAY_PIN_CHANGE_RESULT, 10, 0x9000, 0); }

static void b_pin_change(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_PIN_CHANGE, ACK, 9, 9, 0);
    m->u.pin.apdu = hb("00 24 00 80 10 24 FF FF FF FF FF FF FF 24 FF FF FF FF FF FF FF");
    m->u.pin.encoding = CL_RELAY_PIN_ISO9564_2;
    m->u.pin.min_len = 4;
    m->u.pin.max_len = 12;
    m->u.pin.offset = 0;
    m->u.pin.msg_index = 1;
    m->u.pin.new_offset = 8;
    m->u.pin.confirm = 1;
}

static void b_txn_approve(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_TXN_APPROVE, ACK, 10, 10, 0);
    m->u.txn.txn_id = hb(TXNID).data;
    m->u.txn.txn = hb(TXN);
    m->u.txn.challenge = hb(CHAL);
    m->u.txn.has_pin = true;
    vpin(&m->u.txn.pin);
}

static void b_txn_approve_nopin(struct cl_relay_msg *m)
{
    static const uint8_t ia[4] = { 0x00, 0x88, 0x00, 0x00 };
    hdr(m, CL_RELAY_TXN_APPROVE, ACK, 10, 10, 0);
    m->u.txn.txn_id = hb(TXNID).data;
    m->u.txn.txn = hb(TXN);
    m->u.txn.challenge = hb(CHAL);
    memcpy(m->u.txn.sign_cmd, ia, 4);
    m->u.txn.digest = CL_RELAY_DIGEST_SHA384;
}

static void b_txn_result(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_TXN_RESULT, ACK | REF, 11, 10, 10);
    m->u.txn_result.txn_id = hb(TXNID).data;
    m->u.txn_result.result = CL_RELAY_TXN_APPROVED;
    m->u.txn_result.signature = hb("30 0E 02 05 00 A1 B2 C3 D4 02 05 00 E5 F6 07 18");
}

static void b_txn_result_declined(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_TXN_RESULT, ACK | REF, 11, 10, 10);
    m->u.txn_result.txn_id = hb(TXNID).data;
    m->u.txn_result.result = CL_RELAY_TXN_DECLINED;
}

static void b_txn_result_failed(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_TXN_RESULT, ACK | REF, 11, 10, 10);
    m->u.txn_result.txn_id = hb(TXNID).data;
    m->u.txn_result.result = CL_RELAY_TXN_FAILED;
    m->u.txn_result.sw = 0x6983;
}

static void b_card_reset(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_CARD_RESET, ACK, 11, 11, 0);
    m->u.reset_mode = CL_RELAY_RESET_COLD;
}

static void b_card_reset_result(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_CARD_RESET_RESULT, ACK | REF, 12, 11, 11);
    m->u.card.atr = hb("3B 02 14 50");
    m->u.card.protocol = CL_RELAY_PROTO_T0;
}

static void b_card_reset_result_mute(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_CARD_RESET_RESULT, ACK | REF, 12, 11, 11);
    m->u.card.error = CL_RELAY_E_CARD_MUTE;
}

#define GATE_NONCE "9C 4E 1B 7A D2 05 63 F8 A1 3D 5E 90 2B C7 44 18"

static void b_actuate(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_ACTUATE, ACK, 12, 12, 0);
    m->u.actuate.txn_id = hb(TXNID).data;
    m->u.actuate.action = 1;
    m->u.actuate.device_id = tb("CL-0001");
    m->u.actuate.nonce = hb(GATE_NONCE).data;
    m->u.actuate.not_before = 0x6A0E3C00u;
    m->u.actuate.not_after = 0x6A0E3D2Cu;
    m->u.actuate.signature = hb("30 0E 02 05 00 A1 B2 C3 D4 02 05 00 E5 F6 07 18");
}

static void b_actuate_result(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_ACTUATE_RESULT, ACK | REF, 13, 12, 12);
    m->u.actuate_result.txn_id = hb(TXNID).data;
    m->u.actuate_result.result = CL_RELAY_GATE_DONE;
}

static void b_actuate_result_replayed(struct cl_relay_msg *m)
{
    hdr(m, CL_RELAY_ACTUATE_RESULT, ACK | REF, 13, 12, 12);
    m->u.actuate_result.txn_id = hb(TXNID).data;
    m->u.actuate_result.result = CL_RELAY_GATE_REPLAYED;
}

static const struct {
    const char *name;
    void (*build)(struct cl_relay_msg *m);
} examples[] = {
    { "hello", b_hello }, { "hello-resume", b_hello_resume },
    { "hello-ack", b_hello_ack }, { "hello-ack-resumed", b_hello_ack_resumed },
    { "keepalive", b_keepalive }, { "close", b_close }, { "close-version", b_close_version },
    { "error-denied", b_error_denied }, { "card-inserted", b_card_inserted },
    { "card-removed", b_card_removed }, { "reader-status", b_reader_status },
    { "apdu", b_apdu }, { "apdu-response", b_apdu_response }, { "apdu-txn", b_apdu_txn },
    { "replayed-apdu-response", b_replayed },
    { "script", b_script }, { "script-continue", b_script_continue },
    { "script-result", b_script_result }, { "script-result-mismatch", b_script_result_mismatch },
    { "script-result-error", b_script_result_error },
    { "display", b_display }, { "display-timed", b_display_timed },
    { "display-done", b_display_done },
    { "prompt-yesno", b_prompt_yesno }, { "prompt-numeric", b_prompt_numeric },
    { "prompt-answer", b_prompt_answer }, { "prompt-answer-no", b_prompt_answer_no },
    { "pin-verify", b_pin_verify }, { "pin-verify-bcd", b_pin_verify_bcd },
    { "pin-verify-result", b_pvr }, { "pin-verify-result-wrong", b_pvr_wrong },
    { "pin-verify-result-cancel", b_pvr_cancel },
    { "pin-change", b_pin_change }, { "pin-change-result", b_pcr },
    { "txn-approve", b_txn_approve }, { "txn-approve-nopin", b_txn_approve_nopin },
    { "txn-result", b_txn_result }, { "txn-result-declined", b_txn_result_declined },
    { "txn-result-failed", b_txn_result_failed },
    { "card-reset", b_card_reset }, { "card-reset-result", b_card_reset_result },
    { "card-reset-result-mute", b_card_reset_result_mute },
    { "actuate", b_actuate }, { "actuate-result", b_actuate_result },
    { "actuate-result-replayed", b_actuate_result_replayed },
};

static const struct block *example_block(int i)
{
    const struct block *b = find_block(examples[i].name);
    ck_assert_msg(b != NULL, "docs/protocol.md has no example=%s", examples[i].name);
    ck_assert(!b->invalid);
    return b;
}

/* ------------------------------------------------------------ examples */

/* The C struct encodes to the document's bytes. */
START_TEST(test_example_encode)
{
    const struct block *b = example_block(_i);
    struct cl_relay_msg m;
    uint8_t out[MAX_MSG];
    size_t len;

    examples[_i].build(&m);
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    ck_assert_msg(len == b->len && memcmp(out, b->bytes, len) == 0,
                  "%s: encoded %s", b->name, cl_test_tohex(out, len));
}
END_TEST

/* The document's bytes decode, and re-encode to the same bytes; and the
 * decoded struct equals the built one (compared through the encoder with a
 * fresh build, and on the header and type fields directly). */
START_TEST(test_example_decode)
{
    const struct block *b = example_block(_i);
    struct cl_relay_msg m, want;
    uint8_t out[MAX_MSG];
    size_t len;

    ck_assert_int_eq(cl_relay_decode(b->bytes, b->len, &m), CL_OK);
    examples[_i].build(&want);
    ck_assert_uint_eq(m.type, want.type);
    ck_assert_uint_eq(m.flags, want.flags);
    ck_assert_uint_eq(m.seq, want.seq);
    ck_assert_uint_eq(m.ack, want.ack);
    ck_assert_uint_eq(m.ref, want.ref);
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    ck_assert_msg(len == b->len && memcmp(out, b->bytes, len) == 0,
                  "%s: re-encoded %s", b->name, cl_test_tohex(out, len));
}
END_TEST

/* Every prefix is CL_ERR_TRUNCATED; one byte more is CL_ERR_TRAILING. */
START_TEST(test_example_truncated)
{
    const struct block *b = example_block(_i);
    struct cl_relay_msg m;
    uint8_t buf[MAX_MSG + 1];
    size_t n;

    for (n = 0; n < b->len; n++) {
        uint8_t *copy = malloc(n ? n : 1);   /* exact size: ASan sees over-reads */
        memcpy(copy, b->bytes, n);
        ck_assert_msg(cl_relay_decode(copy, n, &m) == CL_ERR_TRUNCATED, "%s at %zu", b->name, n);
        free(copy);
    }
    memcpy(buf, b->bytes, b->len);
    buf[b->len] = 0;
    ck_assert_int_eq(cl_relay_decode(buf, b->len + 1, &m), CL_ERR_TRAILING);
}
END_TEST

/* A body cut short with the header's length adjusted to it: never OK
 * unless what is left is itself a valid message, never an over-read. */
START_TEST(test_example_body_cut)
{
    const struct block *b = example_block(_i);
    struct cl_relay_msg m;
    size_t n;

    for (n = CL_RELAY_HEADER_LEN; n < b->len; n++) {
        uint8_t *copy = malloc(n);
        int rc;
        memcpy(copy, b->bytes, n);
        copy[6] = (uint8_t)((n - 8) >> 8);
        copy[7] = (uint8_t)(n - 8);
        rc = cl_relay_decode(copy, n, &m);
        if (rc == CL_OK) {
            uint8_t out[MAX_MSG];
            size_t len;
            ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
        } else {
            ck_assert_int_lt(rc, 0);
        }
        free(copy);
    }
}
END_TEST

/* Header byte 0: other versions and other magic. */
START_TEST(test_example_version)
{
    const struct block *b = example_block(_i);
    struct cl_relay_msg m;
    uint8_t buf[MAX_MSG];
    static const uint8_t v[] = { 0xC0, 0xC2, 0xCF }, g[] = { 0x00, 0x41, 0xD1, 0xFF };
    size_t i;

    memcpy(buf, b->bytes, b->len);
    for (i = 0; i < sizeof(v); i++) {
        buf[0] = v[i];
        ck_assert_int_eq(cl_relay_decode(buf, b->len, &m), CL_ERR_VERSION);
    }
    for (i = 0; i < sizeof(g); i++) {
        buf[0] = g[i];
        ck_assert_int_eq(cl_relay_decode(buf, b->len, &m), CL_ERR_MALFORMED);
    }
    for (i = 3; i < 8; i++) {
        buf[0] = 0xC1;
        buf[2] = (uint8_t)(b->bytes[2] | (1u << i));
        ck_assert_int_eq(cl_relay_decode(buf, b->len, &m), CL_ERR_RESERVED);
    }
}
END_TEST

/* Append a field: an unknown optional one is skipped (and re-encoding
 * drops it), an unknown critical one is rejected. */
static size_t append(const struct block *b, uint8_t *buf, const char *hex)
{
    size_t body;
    int n;

    memcpy(buf, b->bytes, b->len);
    n = cl_test_hex(hex, buf + b->len, 64);
    ck_assert_int_gt(n, 0);
    body = b->len - 8 + (size_t)n;
    buf[6] = (uint8_t)(body >> 8);
    buf[7] = (uint8_t)body;
    return b->len + (size_t)n;
}

START_TEST(test_example_unknown_fields)
{
    const struct block *b = example_block(_i);
    struct cl_relay_msg m;
    uint8_t buf[MAX_MSG], out[MAX_MSG];
    size_t n, len;

    n = append(b, buf, "9E 02 AB CD");          /* optional field 30 */
    ck_assert_int_eq(cl_relay_decode(buf, n, &m), CL_OK);
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    ck_assert(len == b->len && memcmp(out, b->bytes, len) == 0);
    n = append(b, buf, "BF 30 00");             /* optional constructed field 48 */
    ck_assert_int_eq(cl_relay_decode(buf, n, &m), CL_OK);
    n = append(b, buf, "9F 20 01 00");          /* critical field 32 */
    ck_assert_int_eq(cl_relay_decode(buf, n, &m), CL_ERR_TAG);
    n = append(b, buf, "9F 1E 01 00");          /* long form of number 30 */
    ck_assert_int_eq(cl_relay_decode(buf, n, &m), CL_ERR_TAG);
    n = append(b, buf, "5E 01 00");             /* application class */
    ck_assert_int_eq(cl_relay_decode(buf, n, &m), CL_ERR_TAG);
    n = append(b, buf, "00");                   /* padding is not allowed */
    ck_assert_int_lt(cl_relay_decode(buf, n, &m), 0);
    if (b->len > 8 && b->bytes[8] < 0x8F) {
        n = append(b, buf, "8F 01 00");         /* critical field 15 */
        ck_assert_int_eq(cl_relay_decode(buf, n, &m), CL_ERR_TAG);
    }
}
END_TEST

/* The first field repeated right after itself. */
START_TEST(test_example_duplicate)
{
    const struct block *b = example_block(_i);
    struct cl_relay_msg m;
    uint8_t buf[2 * MAX_MSG];
    size_t flen, body;

    if (b->len == 8)
        return;
    flen = 2 + b->bytes[9];
    if (b->bytes[9] & 0x80)
        flen = 3 + (b->bytes[9] == 0x81 ? b->bytes[10] : 0);
    if (b->bytes[9] == 0x82)
        return;
    memcpy(buf, b->bytes, 8 + flen);
    memcpy(buf + 8 + flen, b->bytes + 8, b->len - 8);
    body = b->len - 8 + flen;
    buf[6] = (uint8_t)(body >> 8);
    buf[7] = (uint8_t)body;
    ck_assert_int_eq(cl_relay_decode(buf, 8 + body, &m), CL_ERR_TAG);
}
END_TEST

/* Every smaller output buffer is CL_ERR_BUFFER and *len is 0. */
START_TEST(test_example_buffer)
{
    const struct block *b = example_block(_i);
    struct cl_relay_msg m;
    uint8_t out[MAX_MSG];
    size_t n, len;

    examples[_i].build(&m);
    for (n = 0; n < b->len; n++) {
        len = 99;
        ck_assert_int_eq(cl_relay_encode(&m, n ? out : NULL, n, &len), CL_ERR_BUFFER);
        ck_assert_uint_eq(len, 0);
    }
}
END_TEST

/* Every builder has its example (checked above) and every example of the
 * document has its builder or is invalid or names the one it equals. */
START_TEST(test_doc_complete)
{
    int i;
    size_t j;

    load_doc();
    ck_assert_int_gt(nblocks, 40);
    for (i = 0; i < nblocks; i++) {
        bool found = blocks[i].invalid || blocks[i].same[0] != '\0';
        for (j = 0; j < CL_ARRAY_LEN(examples) && !found; j++)
            found = strcmp(examples[j].name, blocks[i].name) == 0;
        ck_assert_msg(found, "example %s has no builder in test_relay.c", blocks[i].name);
    }
}
END_TEST

/* Invalid examples fail with the error the document names; "same="
 * examples decode to the named example's message. */
START_TEST(test_doc_invalid)
{
    int i, nbad = 0;
    struct cl_relay_msg m;

    load_doc();
    for (i = 0; i < nblocks; i++) {
        const struct block *b = &blocks[i];
        if (b->invalid) {
            int rc = cl_relay_decode(b->bytes, b->len, &m);
            ck_assert_msg(rc == b->error, "%s: got %d (%s), want %d", b->name, rc,
                          cl_strerror(rc), b->error);
            nbad++;
        } else if (b->same[0]) {
            const struct block *s = find_block(b->same);
            uint8_t out[MAX_MSG];
            size_t len;
            ck_assert(s != NULL);
            ck_assert_int_eq(cl_relay_decode(b->bytes, b->len, &m), CL_OK);
            ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
            ck_assert(len == s->len && memcmp(out, s->bytes, len) == 0);
        }
    }
    ck_assert_int_ge(nbad, 24);
}
END_TEST

/* ------------------------------------------------------------ specific rules */

/* Malformed messages beyond the document's, each with its rule and error. */
static const struct {
    const char *hex;
    int err;
    const char *why;
} bad_vectors[] = {
    /* header (§2) */
    { "C1 04 02 00 00 00 00 03 80 01 00", CL_ERR_MALFORMED, "REPLAY on unsequenced CLOSE" },
    { "C1 20 04 01 00 00 00 06 80 04 00 A4 00 00", CL_ERR_MALFORMED, "REF on a request" },
    { "C1 21 00 01 00 00 00 04 80 02 90 00", CL_ERR_MALFORMED, "answer without REF" },
    { "C1 21 01 01 00 05 00 04 80 02 90 00", CL_ERR_MALFORMED, "ref without REF" },
    { "C1 00 00 00 00 00 00 00", CL_ERR_UNSUPPORTED, "type 00" },
    { "C1 80 00 01 00 00 00 00", CL_ERR_UNSUPPORTED, "vendor type 80" },
    { "C1 10 00 01 00 00 00 03 80 01 00", CL_ERR_RESERVED, "ERROR code 00" },
    { "C1 10 04 01 00 09 00 03 80 01 02", CL_OK, "ERROR may have REF" },
    /* fields (§3) */
    { "C1 32 00 01 00 00 00 03 A0 01 03", CL_ERR_TAG, "constructed tag for a primitive field" },
    { "C1 32 00 01 00 00 00 05 80 85 00 00 00 00 01 03", CL_ERR_UNSUPPORTED, "5-byte length form" },
    { "C1 32 00 01 00 00 00 05 80 82 00 01 03", CL_ERR_MALFORMED, "non-minimal 2-byte length" },
    { "C1 32 00 01 00 00 00 03 80 FF 03", CL_ERR_MALFORMED, "length byte FF" },
    { "C1 32 00 01 00 00 00 00", CL_ERR_MALFORMED, "READER-STATUS without status" },
    { "C1 32 00 01 00 00 00 05 80 01 03 90 00", CL_OK, "empty optional unknown field" },
    { "C1 32 00 01 00 00 00 05 90 00 80 01 03", CL_ERR_TAG, "optional field 16 before field 0" },
    /* HELLO */
    { "C1 01 00 00 00 00 00 08 80 01 00 81 01 41 A2 00", CL_ERR_RESERVED, "version 00" },
    { "C1 01 00 00 00 00 00 08 80 00 81 01 41 A2 00", CL_ERR_LENGTH, "no versions" },
    { "C1 01 00 00 00 00 00 05 80 01 01 A2 00", CL_ERR_MALFORMED, "no device id" },
    { "C1 01 00 00 00 00 00 06 80 01 01 81 01 41", CL_ERR_MALFORMED, "no capabilities" },
    { "C1 01 00 00 00 00 00 0C 80 01 01 81 01 41 A2 04 81 02 00 00", CL_ERR_MALFORMED, "display 0x0" },
    { "C1 01 00 00 00 00 00 0E 80 01 01 81 01 41 A2 06 85 04 00 00 00 00", CL_ERR_MALFORMED, "max APDU 0/0" },
    { "C1 01 00 00 00 00 00 0B 80 01 01 81 01 41 A2 03 88 01 00", CL_ERR_TAG, "unknown critical capability" },
    { "C1 01 00 00 00 00 00 0B 80 01 01 81 01 41 A2 00 83 01 00", CL_ERR_LENGTH, "token of 1 byte" },
    { "C1 01 00 00 00 00 00 0B 80 01 01 81 01 41 A2 00 90 01 07", CL_ERR_MALFORMED, "control char in text" },
    /* HELLO-ACK */
    { "C1 02 00 00 00 00 00 0E 80 01 01 81 08 00 00 00 00 00 00 00 00", CL_OK, "8-byte token" },
    { "C1 02 00 00 00 00 00 11 80 01 01 81 08 00 00 00 00 00 00 00 00 82 01 02", CL_ERR_RESERVED, "flags bit 1" },
    { "C1 02 00 00 00 00 00 0E 80 01 00 81 08 00 00 00 00 00 00 00 00", CL_ERR_RESERVED, "version 0" },
    /* CARD-* */
    { "C1 30 00 01 00 00 00 06 80 01 3B 81 01 00", CL_ERR_LENGTH, "ATR of 1 byte" },
    { "C1 30 00 01 00 00 00 08 80 04 3B 02 14 50 81 01 FF", CL_ERR_RESERVED, "protocol FF" },
    { "C1 2F 05 01 01 01 00 0B 80 04 3B 02 14 50 81 01 00 82 01 08", CL_ERR_MALFORMED, "reset result with ATR and error" },
    { "C1 2F 05 01 01 01 00 06 80 04 3B 02 14 50", CL_ERR_MALFORMED, "reset result: ATR without protocol" },
    { "C1 2F 05 01 01 01 00 03 82 01 00", CL_ERR_MALFORMED, "reset result: explicit error 00" },
    { "C1 2F 05 01 01 01 00 00", CL_ERR_MALFORMED, "reset result: empty" },
    { "C1 2E 01 01 01 00 00 03 80 01 02", CL_ERR_RESERVED, "reset mode 02" },
    { "C1 2E 01 01 01 00 00 03 80 01 00", CL_OK, "explicit default warm reset" },
    /* APDU */
    { "C1 20 00 01 00 00 00 05 80 03 00 A4 04", CL_ERR_LENGTH, "3-byte command" },
    { "C1 20 00 01 00 00 00 07 80 05 00 A4 04 00 00", CL_OK, "case 2: Le 00" },
    { "C1 20 00 01 00 00 00 08 80 06 00 A4 04 00 00 01", CL_ERR_MALFORMED, "short Lc 00" },
    { "C1 20 00 01 00 00 00 09 80 04 00 A4 04 00 81 01 00", CL_ERR_LENGTH, "txn id of 1 byte" },
    { "C1 21 04 01 00 01 00 03 80 01 90", CL_ERR_LENGTH, "response of 1 byte" },
    /* SCRIPT */
    { "C1 22 00 01 00 00 00 08 A2 06 80 04 00 A4 04 00", CL_OK, "one case-1 step" },
    { "C1 22 00 01 00 00 00 0B 80 01 02 A2 06 80 04 00 A4 04 00", CL_ERR_RESERVED, "script option bit 1" },
    { "C1 22 00 01 00 00 00 06 A2 04 81 02 90 00", CL_ERR_TAG, "expectation before any step" },
    { "C1 22 00 01 00 00 00 0C A2 0D 80 04 00 A4 04 00 82 01 00 81 02 90 00", CL_ERR_TAG, "expectation after options" },
    { "C1 22 00 01 00 00 00 10 A2 0E 80 04 00 A4 04 00 81 02 90 00 81 02 90 00", CL_ERR_TAG, "two expectations" },
    { "C1 22 00 01 00 00 00 0B A2 09 80 04 00 A4 04 00 81 01 90", CL_ERR_LENGTH, "1-byte expectation" },
    { "C1 22 00 01 00 00 00 0C A2 0A 80 04 00 A4 04 00 81 02 90 00", CL_OK, "exact 9000" },
    { "C1 22 00 01 00 00 00 0E A2 0C 80 04 00 A4 04 00 81 04 90 00 FF FF", CL_ERR_MALFORMED, "mask FFFF" },
    { "C1 22 00 01 00 00 00 0E A2 0C 80 04 00 A4 04 00 81 04 00 00 00 00", CL_OK, "mask 0000: anything" },
    { "C1 22 00 01 00 00 00 0B A2 09 80 04 00 A4 04 00 82 01 02", CL_ERR_RESERVED, "step option bit 1" },
    { "C1 22 00 01 00 00 00 0A A2 08 80 04 00 A4 04 00 04 00", CL_ERR_TAG, "universal tag in steps" },
    { "C1 22 00 01 00 00 00 0A A2 08 80 04 00 A4 04 00 90 00", CL_OK, "unknown optional in steps" },
    { "C1 22 00 01 00 00 00 0A A2 08 80 04 00 A4 04 00 83 00", CL_ERR_TAG, "unknown critical in steps" },
    { "C1 22 00 01 00 00 00 08 82 06 80 04 00 A4 04 00", CL_ERR_TAG, "primitive steps field" },
    { "C1 22 00 01 00 00 00 06 A2 04 80 02 00 A4", CL_ERR_LENGTH, "2-byte step" },
    /* SCRIPT-RESULT */
    { "C1 23 04 01 00 01 00 02 A2 00", CL_OK, "no responses" },
    { "C1 23 04 01 00 01 00 05 80 01 00 A2 00", CL_ERR_MALFORMED, "mismatch index without response" },
    { "C1 23 04 01 00 01 00 05 80 01 FF A2 00", CL_ERR_MALFORMED, "explicit mismatch FF" },
    { "C1 23 04 01 00 01 00 05 81 01 00 A2 00", CL_ERR_MALFORMED, "explicit error 00" },
    { "C1 23 04 01 00 01 00 05 A2 03 80 01 90", CL_ERR_LENGTH, "1-byte response" },
    { "C1 23 04 01 00 01 00 06 A2 04 81 02 90 00", CL_ERR_TAG, "response with tag 81" },
    { "C1 23 04 01 00 01 00 03 80 01 00", CL_ERR_MALFORMED, "responses missing" },
    /* DISPLAY / PROMPT */
    { "C1 24 00 01 00 00 00 02 80 00", CL_OK, "empty text clears" },
    { "C1 24 00 01 00 00 00 03 80 01 0D", CL_ERR_MALFORMED, "CR in text" },
    { "C1 24 00 01 00 00 00 03 80 01 80", CL_ERR_MALFORMED, "non-ASCII in text" },
    { "C1 26 00 01 00 00 00 0A 80 01 03 81 01 41 82 02 00 01", CL_ERR_MALFORMED, "length for YES/NO" },
    { "C1 26 00 01 00 00 00 06 80 01 02 81 01 41", CL_ERR_MALFORMED, "NUMERIC without length" },
    { "C1 26 00 01 00 00 00 0A 80 01 02 81 01 41 82 02 03 02", CL_ERR_MALFORMED, "min > max" },
    { "C1 26 00 01 00 00 00 0A 80 01 02 81 01 41 82 02 00 41", CL_ERR_MALFORMED, "max 65" },
    { "C1 26 00 01 00 00 00 0A 80 01 02 81 01 41 82 02 00 00", CL_ERR_MALFORMED, "explicit 0,0" },
    { "C1 26 00 01 00 00 00 06 80 01 04 81 01 41", CL_ERR_RESERVED, "kind 04" },
    { "C1 26 00 01 00 00 00 05 80 01 03 81 00", CL_ERR_LENGTH, "empty prompt text" },
    { "C1 27 04 01 00 01 00 06 80 01 01 81 01 31", CL_ERR_MALFORMED, "value with NO" },
    { "C1 27 04 01 00 01 00 03 80 01 04", CL_ERR_RESERVED, "answer 04" },
    { "C1 27 04 01 00 01 00 06 80 01 00 81 01 0A", CL_ERR_MALFORMED, "LF in answer value" },
    /* PIN templates */
    { "C1 28 00 01 00 00 00 15 80 06 00 20 00 80 01 FF 81 01 02 82 02 01 01 83 01 00", CL_OK, "1-digit ASCII in 1 byte" },
    { "C1 28 00 01 00 00 00 15 80 06 00 20 00 80 01 FF 81 01 02 82 02 01 02 83 01 00", CL_ERR_MALFORMED, "2 ASCII digits in 1 byte" },
    { "C1 28 00 01 00 00 00 15 80 06 00 20 00 80 01 FF 81 01 01 82 02 01 02 83 01 00", CL_OK, "2 BCD digits in 1 byte" },
    { "C1 28 00 01 00 00 00 15 80 06 00 20 00 80 01 FF 81 01 01 82 02 01 03 83 01 00", CL_ERR_MALFORMED, "3 BCD digits in 1 byte" },
    { "C1 28 00 01 00 00 00 15 80 06 00 20 00 80 01 FF 81 01 01 82 02 00 01 83 01 00", CL_ERR_MALFORMED, "min 0" },
    { "C1 28 00 01 00 00 00 15 80 06 00 20 00 80 01 FF 81 01 04 82 02 01 01 83 01 00", CL_ERR_RESERVED, "encoding 04" },
    { "C1 28 00 01 00 00 00 15 80 06 00 20 00 80 01 FF 81 01 01 82 02 01 01 83 01 01", CL_ERR_MALFORMED, "offset past data" },
    { "C1 28 00 01 00 00 00 12 80 06 00 20 00 80 01 FF 81 01 01 82 02 01 01", CL_ERR_MALFORMED, "verify without offset" },
    { "C1 28 00 01 00 00 00 18 80 06 00 20 00 80 01 FF 81 01 01 82 02 01 01 83 01 00 84 01 00", CL_ERR_MALFORMED, "length byte on the PIN" },
    { "C1 28 00 01 00 00 00 18 80 06 00 20 00 80 01 FF 81 01 01 82 02 01 01 83 01 00 86 01 03", CL_ERR_RESERVED, "message index 3" },
    { "C1 28 00 01 00 00 00 18 80 06 00 20 00 80 01 FF 81 01 01 82 02 01 01 83 01 00 87 01 00", CL_ERR_TAG, "new offset in verify" },
    { "C1 28 00 01 00 00 00 14 80 07 00 20 00 80 00 00 00 81 01 01 82 02 01 01 83 01 00", CL_ERR_MALFORMED, "template case 2E" },
    /* the codec keeps to syntax: CLA and INS are lib/policy's to refuse */
    { "C1 28 00 01 00 00 00 15 80 06 FF 20 00 80 01 FF 81 01 01 82 02 01 01 83 01 00", CL_OK, "CLA FF (policy, not syntax)" },
    { "C1 28 00 01 00 00 00 15 80 06 00 24 00 80 01 FF 81 01 01 82 02 01 01 83 01 00", CL_OK, "verify with INS 24 (policy)" },
    { "C1 28 01 08 08 00 00 19 80 0D 00 D6 00 00 08 24 FF FF FF FF FF FF FF 81 01 03 82 02 04 0C 83 01 00", CL_OK, "UPDATE BINARY template (policy)" },
    { "C1 2A 00 01 00 00 00 15 80 06 00 20 00 80 01 FF 81 01 01 82 02 01 01 87 01 00", CL_OK, "change with INS 20 (policy)" },
    { "C1 28 01 08 08 00 00 19 80 0D 00 20 00 80 08 24 FF FF FF FF FF FF FF 81 01 03 82 02 04 0C 83 01 01", CL_ERR_MALFORMED, "format 2 block past the data" },
    { "C1 28 00 01 00 00 00 11 80 04 00 20 00 80 81 01 01 82 02 01 01 83 01 00", CL_ERR_LENGTH, "template of 4 bytes (case 1)" },
    { "C1 28 00 01 00 00 00 1C 80 0D 00 20 00 80 08 24 FF FF FF FF FF FF FF 81 01 03 82 02 04 0F 83 01 00", CL_ERR_MALFORMED, "format 2 with 15 digits" },
    { "C1 2A 00 01 00 00 00 18 80 06 00 24 00 80 01 FF 81 01 01 82 02 01 01 83 01 00 87 01 00", CL_ERR_MALFORMED, "old and new PIN overlap" },
    { "C1 2A 00 01 00 00 00 15 80 06 00 24 00 80 01 FF 81 01 01 82 02 01 01 87 01 00", CL_OK, "change: new PIN only" },
    { "C1 2A 00 01 00 00 00 12 80 06 00 24 00 80 01 FF 81 01 01 82 02 01 01", CL_ERR_MALFORMED, "change without new offset" },
    { "C1 2A 00 01 00 00 00 18 80 06 00 24 00 80 01 FF 81 01 01 82 02 01 01 87 01 00 88 01 02", CL_ERR_RESERVED, "confirm 02" },
    { "C1 2A 00 01 00 00 00 18 80 06 00 24 00 80 01 FF 81 01 01 82 02 01 01 83 01 FF 87 01 00", CL_ERR_MALFORMED, "explicit old offset FF" },
    { "C1 29 04 01 00 01 00 07 80 02 90 00 81 01 0B", CL_ERR_MALFORMED, "SW and error" },
    { "C1 29 04 01 00 01 00 00", CL_ERR_MALFORMED, "neither SW nor error" },
    { "C1 29 04 01 00 01 00 04 80 02 12 34", CL_ERR_MALFORMED, "SW1 12" },
    { "C1 29 04 01 00 01 00 04 80 02 00 00", CL_ERR_MALFORMED, "explicit SW 0000" },
    { "C1 29 04 01 00 01 00 03 80 01 90", CL_ERR_LENGTH, "1-byte SW" },
    /* TXN */
    { "C1 2C 00 01 00 00 00 22 80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 81 02 E1 00 82 08 00 00 00 00 00 00 00 00", CL_OK, "minimal TXN-APPROVE" },
    { "C1 2C 00 01 00 00 00 22 80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 81 02 E1 01 82 08 00 00 00 00 00 00 00 00", CL_ERR_MALFORMED, "transaction TLV truncated" },
    { "C1 2C 00 01 00 00 00 21 80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 81 02 E1 00 82 07 00 00 00 00 00 00 00", CL_ERR_LENGTH, "7-byte challenge" },
    { "C1 2C 00 01 00 00 00 28 80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 81 02 E1 00 82 08 00 00 00 00 00 00 00 00 84 04 00 B0 00 00", CL_OK, "sign with READ BINARY (policy)" },
    { "C1 2C 00 01 00 00 00 28 80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 81 02 E1 00 82 08 00 00 00 00 00 00 00 00 84 04 FF 2A 9E 9A", CL_OK, "sign with CLA FF (policy)" },
    { "C1 2C 00 01 00 00 00 28 80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 81 02 E1 00 82 08 00 00 00 00 00 00 00 00 84 04 80 54 00 00", CL_OK, "sign with DEBIT (policy)" },
    { "C1 2C 00 01 00 00 00 27 80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 81 02 E1 00 82 08 00 00 00 00 00 00 00 00 84 03 00 2A 9E", CL_ERR_LENGTH, "3-byte sign command" },
    { "C1 2C 00 01 00 00 00 34 80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 81 02 E1 00 82 08 00 00 00 00 00 00 00 00 A3 12 80 06 00 D6 00 00 01 FF 81 01 01 82 02 01 01 83 01 00", CL_OK, "TXN-APPROVE with an UPDATE BINARY template (policy)" },
    { "C1 2C 00 01 00 00 00 25 80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 81 02 E1 00 82 08 00 00 00 00 00 00 00 00 85 01 03", CL_ERR_RESERVED, "digest 03" },
    { "C1 2C 00 01 00 00 00 24 80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 81 02 E1 00 82 08 00 00 00 00 00 00 00 00 A3 00", CL_ERR_MALFORMED, "empty PIN template" },
    { "C1 2C 00 01 00 00 00 12 81 02 E1 00 82 08 00 00 00 00 00 00 00 00", CL_ERR_MALFORMED, "no txn id" },
    { "C1 2D 04 01 00 01 00 15 80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 81 01 00", CL_ERR_MALFORMED, "approved without signature" },
    { "C1 2D 04 01 00 01 00 18 80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 81 01 01 82 01 00", CL_ERR_MALFORMED, "declined with signature" },
    { "C1 2D 04 01 00 01 00 15 80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 81 01 02", CL_ERR_MALFORMED, "failed without reason" },
    { "C1 2D 04 01 00 01 00 18 80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 81 01 02 84 01 0C", CL_OK, "failed: TIMEOUT" },
    { "C1 2D 04 01 00 01 00 15 80 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 81 01 03", CL_ERR_RESERVED, "result 03" },
    /* the walker's edges (a one-at-a-time fault run of relay_msg_walk.c) */
    { "C1 20 00 01 00 00 00 00 80 05 00 A4 00 00", CL_ERR_LENGTH, "APDU field one byte past the message" },
    { "C1 20 00 01 00 00 00 00 80 06 00 A4 00 00", CL_ERR_LENGTH, "APDU field two bytes past the message" },
    { "C1 20 00 01 00 00 00 00 80 04 00 A4 00 00 90 00 91 00", CL_OK, "unknown optional 90 then 91: both skipped" },
    { "C1 20 00 01 00 00 00 00 80 04 00 A4 00 00 90 00 90 00", CL_ERR_TAG, "unknown optional 90 twice" },
    { "C1 22 00 01 00 00 00 00 A2 0C 80 04 00 A4 00 00 80 05 00 B0 00 00 90 01 00", CL_ERR_LENGTH, "second step one byte past its list" },
    { "C1 23 04 01 00 01 00 00 A2 08 80 02 90 00 80 03 90 00 90 01 00", CL_ERR_LENGTH, "second response one byte past its list" },
    { "C1 01 00 00 00 00 00 00 80 01 01 81 01 41 A2 07 81 02 00 00 83 01 28", CL_ERR_MALFORMED, "display 00 00 with a field after it" },
    { "C1 32 00 01 00 00 00 00 80 01 03 9F 80", CL_ERR_MALFORMED, "a long tag's first byte 80, at the end" },
};

START_TEST(test_bad_vectors)
{
    uint8_t buf[512];
    struct cl_relay_msg m;
    int n = cl_test_hex(bad_vectors[_i].hex, buf, sizeof(buf));
    int rc;

    ck_assert_int_ge(n, 8);
    buf[6] = (uint8_t)((n - 8) >> 8);   /* the table's length bytes are placeholders */
    buf[7] = (uint8_t)(n - 8);
    rc = cl_relay_decode(buf, (size_t)n, &m);
    ck_assert_msg(rc == bad_vectors[_i].err, "%s: got %d (%s) want %d", bad_vectors[_i].why, rc,
                  cl_strerror(rc), bad_vectors[_i].err);
    if (rc == CL_OK) {
        uint8_t out[512];
        size_t len;
        ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    }
}
END_TEST

/* The decisions of issue 11 §5, each as docs/protocol.md states it (the
 * section in the comment). same: an accepted message re-encodes to exactly
 * these bytes. The length bytes 6..7 are filled in. */
#define Z16 "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
#define HELLO_HEAD "C1 01 00 00 00 00 00 00 80 01 01 81 01 41 "
#define ACK_HEAD "C1 02 00 00 00 00 00 00 80 01 01 81 08 00 00 00 00 00 00 00 00 "
#define TXN_HEAD "C1 2C 00 01 00 00 00 00 80 10 " Z16 " "
#define CHAL0 " 82 08 00 00 00 00 00 00 00 00"
static const struct {
    const char *hex;
    int err;
    bool same;
    const char *why;
} spec_vectors[] = {
    /* §3, §5.1 defaults: a capability holding the default is sent and kept */
    { HELLO_HEAD "A2 06 85 04 01 05 01 02", CL_OK, true, "max APDU 261/258 = default, kept (§3)" },
    { HELLO_HEAD "A2 03 87 01 08", CL_OK, true, "script steps 8 = default, kept (§3)" },
    { HELLO_HEAD "A2 03 87 01 00", CL_ERR_MALFORMED, false, "script steps 00 (§5.1: 1..255)" },
    { HELLO_HEAD "A2 03 87 01 FF", CL_OK, true, "script steps 255 (§5.1)" },
    { HELLO_HEAD "A2 03 83 01 00", CL_ERR_MALFORMED, false, "printer 00 sent for 'none' (§3)" },
    { HELLO_HEAD "A2 04 84 02 00 00", CL_ERR_MALFORMED, false, "max message 0 (§5.1)" },
    { HELLO_HEAD "A2 04 84 02 00 07", CL_ERR_MALFORMED, false, "max message 7 < header (§5.1)" },
    { HELLO_HEAD "A2 04 84 02 00 08", CL_OK, true, "max message 8: headers only (§5.1)" },
    { HELLO_HEAD "A2 04 84 02 00 09", CL_OK, true, "max message 9 (§5.1)" },
    { HELLO_HEAD "A2 04 84 02 FF FF", CL_OK, true, "max message 65535 (§5.1)" },
    { ACK_HEAD "84 02 00 00", CL_ERR_MALFORMED, false, "HELLO-ACK max message 0 (§5.2)" },
    { ACK_HEAD "84 02 00 07", CL_ERR_MALFORMED, false, "HELLO-ACK max message 7 (§5.2)" },
    { ACK_HEAD "84 02 00 08", CL_OK, true, "HELLO-ACK max message 8 (§5.2)" },
    { HELLO_HEAD "A2 06 85 04 00 00 00 00", CL_ERR_MALFORMED, false, "max APDU 0/0 (§5.1)" },
    { HELLO_HEAD "A2 06 85 04 00 03 01 02", CL_ERR_MALFORMED, false, "max command APDU 3 (§5.1)" },
    { HELLO_HEAD "A2 06 85 04 00 04 01 02", CL_OK, true, "max command APDU 4 (§5.1)" },
    { HELLO_HEAD "A2 06 85 04 00 05 00 01", CL_ERR_MALFORMED, false, "max response APDU 1 (§5.1)" },
    { HELLO_HEAD "A2 06 85 04 00 05 00 02", CL_OK, true, "max response APDU 2 (§5.1)" },
    { HELLO_HEAD "A2 06 85 04 00 05 00 03", CL_OK, true, "max response APDU 3 (§5.1)" },
    /* §3 tags: long forms, 3 and 4 bytes, criticality by bit 4 of the number */
    { "C1 32 00 01 00 00 00 00 80 01 03 9F 81 10 00", CL_OK, false, "3-byte optional tag 144 skipped (§3)" },
    { "C1 32 00 01 00 00 00 00 80 01 03 9F 81 00 00", CL_ERR_TAG, false, "3-byte critical tag 128 (§3)" },
    { "C1 32 00 01 00 00 00 00 80 01 03 9F 81 80 10 00", CL_OK, false, "4-byte optional tag 16400 skipped (§3)" },
    { "C1 32 00 01 00 00 00 00 80 01 03 9F 81 80 00 00", CL_ERR_TAG, false, "4-byte critical tag 16384 (§3)" },
    { "C1 32 00 01 00 00 00 00 80 01 03 9F 81 80 80 10 00", CL_ERR_UNSUPPORTED, false, "5-byte tag (§3)" },
    { "C1 32 00 01 00 00 00 00 80 01 03 9F 80 30 00", CL_ERR_MALFORMED, false, "tag number with leading 80 (§3)" },
    { "C1 32 00 01 00 00 00 00 80 01 03 9F 10 00", CL_ERR_TAG, false, "long form of number 16 (§3)" },
    { "C1 32 00 01 00 00 00 00 80 01 03 9F 1F 00", CL_OK, false, "2-byte optional tag 31 skipped (§3)" },
    { "C1 32 00 01 00 00 00 00 80 01 03 9F 81 10 00 9F 30 00", CL_ERR_TAG, false, "optional 48 after 144: order (§3)" },
    { "C1 32 00 01 00 00 00 00 80 01 03 9F", CL_ERR_LENGTH, false, "tag cut after its first byte (§3)" },
    /* §3 length forms */
    { "C1 32 00 01 00 00 00 00 80 83 01 00 00 03", CL_ERR_LENGTH, false, "length form 83: past any body (§3)" },
    { "C1 32 00 01 00 00 00 00 80 84 01 00 00 00 03", CL_ERR_LENGTH, false, "length form 84: past any body (§3)" },
    { "C1 32 00 01 00 00 00 00 80 83 00 00 01 03", CL_ERR_MALFORMED, false, "length form 83, leading 00 (§3)" },
    { "C1 32 00 01 00 00 00 00 80 81 7F 03", CL_ERR_MALFORMED, false, "81 7F: not minimal (§3)" },
    { "C1 32 00 01 00 00 00 00 80 80", CL_ERR_INDEFINITE, false, "indefinite (§3)" },
    { "C1 32 00 01 00 00 00 00 80 FE 00", CL_ERR_UNSUPPORTED, false, "length form FE (§3)" },
    /* §5.8 expected status word: the 2-byte form is a status word */
    { "C1 22 00 01 00 00 00 00 A2 0A 80 04 00 A4 04 00 81 02 12 34", CL_ERR_MALFORMED, false, "expect SW 1234 (§5.8)" },
    { "C1 22 00 01 00 00 00 00 A2 0A 80 04 00 A4 04 00 81 02 00 00", CL_ERR_MALFORMED, false, "expect SW 0000 (§5.8)" },
    { "C1 22 00 01 00 00 00 00 A2 0A 80 04 00 A4 04 00 81 02 5F FF", CL_ERR_MALFORMED, false, "expect SW 5FFF (§5.8)" },
    { "C1 22 00 01 00 00 00 00 A2 0A 80 04 00 A4 04 00 81 02 60 00", CL_OK, true, "expect SW 6000 (§5.8)" },
    { "C1 22 00 01 00 00 00 00 A2 0A 80 04 00 A4 04 00 81 02 9F FF", CL_OK, true, "expect SW 9FFF (§5.8)" },
    { "C1 22 00 01 00 00 00 00 A2 0A 80 04 00 A4 04 00 81 02 A0 00", CL_ERR_MALFORMED, false, "expect SW A000 (§5.8)" },
    { "C1 22 00 01 00 00 00 00 A2 0C 80 04 00 A4 04 00 81 04 12 00 FF 00", CL_OK, true, "masked: a pattern, not a SW (§5.8)" },
    /* §5.12 transaction: one DER TLV, checked to its leaves */
    { TXN_HEAD "81 05 E1 03 80 05 AA" CHAL0, CL_ERR_MALFORMED, false, "inner TLV past its parent (§5.12)" },
    { TXN_HEAD "81 04 E1 00 E1 00" CHAL0, CL_ERR_MALFORMED, false, "two TLVs (§5.12)" },
    { TXN_HEAD "81 04 E1 02 80 00" CHAL0, CL_OK, true, "one constructed TLV (§5.12)" },
    { TXN_HEAD "81 03 80 01 00" CHAL0, CL_OK, true, "one primitive TLV: syntax only (§5.12)" },
    { TXN_HEAD "81 06 E1 04 80 81 01 00" CHAL0, CL_ERR_MALFORMED, false, "inner length not minimal (§5.12)" },
    { TXN_HEAD "81 04 E1 02 80 80" CHAL0, CL_ERR_MALFORMED, false, "inner indefinite length (§5.12)" },
    { TXN_HEAD "81 05 E1 03 A6 01 00" CHAL0, CL_ERR_MALFORMED, false, "third level cut (§5.12)" },
    /* §3 apdu: Lc 00 and extended Lc 0000 are defects, not lengths */
    { "C1 20 00 01 00 00 00 00 80 06 00 A4 04 00 00 AA", CL_ERR_MALFORMED, false, "short Lc 00 + 1 byte (§3)" },
    { "C1 20 00 01 00 00 00 00 80 08 00 A4 04 00 00 00 00 AA", CL_ERR_MALFORMED, false, "extended Lc 0000 (§3)" },
    { "C1 20 00 01 00 00 00 00 80 09 00 A4 04 00 00 00 00 AA BB", CL_ERR_MALFORMED, false, "extended Lc 0000, 2 bytes (§3)" },
    { "C1 20 00 01 00 00 00 00 80 07 00 A4 04 00 00 00 00", CL_OK, true, "case 2E, Le 0000 (§3)" },
    { "C1 20 00 01 00 00 00 00 80 08 00 A4 04 00 00 00 01 AA", CL_OK, true, "case 3E, Lc 0001 (§3)" },
    { "C1 20 00 01 00 00 00 00 80 08 00 A4 04 00 00 00 02 AA", CL_ERR_LENGTH, false, "case 3E, Lc 0002, 1 byte (§3)" },
    /* §5.13 protocol FF is an undefined value, as in CARD-INSERTED */
    { "C1 2F 04 01 00 01 00 00 80 02 3B 00 81 01 FF", CL_ERR_RESERVED, false, "reset result protocol FF (§5.13)" },
    { "C1 2F 04 01 00 01 00 00 80 02 3B 00 81 01 03", CL_ERR_RESERVED, false, "reset result protocol 03 (§5.13)" },
    { "C1 2F 04 01 00 01 00 00 80 02 3B 00 81 01 02", CL_OK, true, "reset result protocol 02 (§5.13)" },
    /* §15 order: header before length; each field whole before the next;
     * fields before missing ones; fields before the rules between them */
    { "C2 32 08 01 00 00 00 09 80 01 03", CL_ERR_VERSION, false, "version before flags and length (§15)" },
    { "C1 32 08 01 05 00 00 09 80 01 03", CL_ERR_RESERVED, false, "flags before length (§15)" },
    { "C1 7F 00 01 05 00 00 00", CL_ERR_MALFORMED, false, "ack rule before the unknown type (§15)" },
    { "C1 32 00 01 00 00 00 00 40 05 03", CL_ERR_LENGTH, false, "extent before class (§15)" },
    { "C1 32 00 01 00 00 00 00 A0 02 03 00 81 09", CL_ERR_TAG, false, "constructed bit before a later extent (§15)" },
    { "C1 32 00 01 00 00 00 00 80 02 03 00 40 01 00", CL_ERR_LENGTH, false, "size before a later class (§15)" },
    { "C1 30 00 01 00 00 00 00 81 02 00 00", CL_ERR_LENGTH, false, "a field's size before a missing field (§15)" },
    { "C1 30 00 01 00 00 00 00 81 01 07", CL_ERR_RESERVED, false, "a field's value before a missing field (§15)" },
    { "C1 26 00 01 00 00 00 00 80 01 03 81 01 41 82 02 00 01 83 02 00 00", CL_ERR_LENGTH, false, "fields before rules (§15)" },
    { "C1 26 00 01 00 00 00 00 80 01 04 81 01 0D", CL_ERR_RESERVED, false, "first field's value first (§15)" },
    { "C1 22 00 01 00 00 00 00 A2 0D 80 03 00 A4 04 81 02 12 34 83 00", CL_ERR_LENGTH, false, "each step in turn (§15)" },
    /* §5.12: field 81 is one DER TLV; inside a constructed value, TLVs that fill it */
    { TXN_HEAD "81 08 30 06 31 02 80 00 80 00" CHAL0, CL_OK, true, "SEQUENCE { SET { 80 }, 80 }" },
    { TXN_HEAD "81 06 30 04 31 01 80 00" CHAL0, CL_ERR_MALFORMED, false, "a TLV cut by the end of its SET, whole in the SEQUENCE" },
    { TXN_HEAD "81 09 30 07 31 02 80 03 AA BB CC" CHAL0, CL_ERR_MALFORMED, false, "a TLV running past its SET into its SEQUENCE" },
};

START_TEST(test_spec_vectors)
{
    uint8_t buf[512], out[512];
    struct cl_relay_msg m;
    int n = cl_test_hex(spec_vectors[_i].hex, buf, sizeof(buf));
    size_t len;
    int rc;

    ck_assert_int_ge(n, 8);
    buf[6] = (uint8_t)((n - 8) >> 8);
    buf[7] = (uint8_t)(n - 8);
    rc = cl_relay_decode(buf, (size_t)n, &m);
    ck_assert_msg(rc == spec_vectors[_i].err, "%s: got %d (%s) want %d", spec_vectors[_i].why,
                  rc, cl_strerror(rc), spec_vectors[_i].err);
    if (rc != CL_OK)
        return;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    if (spec_vectors[_i].same)
        ck_assert_msg(len == (size_t)n && memcmp(out, buf, len) == 0, "%s: re-encoded %s",
                      spec_vectors[_i].why, cl_test_tohex(out, len));
}
END_TEST

/* The encoder refuses what the decoder refuses (§5 decisions). */
START_TEST(test_spec_encode)
{
    struct cl_relay_msg m;
    uint8_t out[512];
    size_t len;

    b_hello(&m);
    m.u.hello.caps.max_msg = 7;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_MALFORMED);
    m.u.hello.caps.max_msg = 8;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    m.u.hello.caps.max_cmd_apdu = 3;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_MALFORMED);
    m.u.hello.caps.max_cmd_apdu = 0;                /* one of the two alone */
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_MALFORMED);
    b_hello_ack(&m);
    m.u.hello_ack.max_msg = 1;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_MALFORMED);
    b_script(&m);
    m.u.script.steps[0].expect.value = 0x1234;      /* EXACT */
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_MALFORMED);
    b_card_reset_result(&m);
    m.u.card.protocol = 3;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_RESERVED);
    b_txn_approve(&m);
    m.u.txn.txn = hb("E1 00 E1 00");
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_MALFORMED);
    /* §6: what the session answers for the codec's errors */
    ck_assert_uint_eq(cl_relay_err_to_wire(CL_ERR_TAG), CL_RELAY_E_MALFORMED);
    ck_assert_uint_eq(cl_relay_err_to_wire(CL_ERR_TOO_LONG), CL_RELAY_E_TOO_LARGE);
    ck_assert_uint_eq(cl_relay_err_to_wire(CL_ERR_UNSUPPORTED), CL_RELAY_E_UNSUPPORTED);
    ck_assert_uint_eq(cl_relay_err_to_wire(CL_ERR_RESERVED), CL_RELAY_E_MALFORMED);
}
END_TEST

/* §5.12: the transaction nests at most 8 constructed levels, its outer
 * TLV included. */
START_TEST(test_txn_depth)
{
    uint8_t buf[128], *p;
    struct cl_relay_msg m;
    int depth;

    for (depth = 6; depth <= 8; depth++) {      /* levels below E1 */
        int i, n = cl_test_hex(TXN_HEAD, buf, sizeof(buf));
        p = buf + n;
        *p++ = 0x81;
        *p++ = (uint8_t)(2 * (depth + 1));
        for (i = 0; i <= depth; i++) {           /* E1 (A0 (A0 ... (A0 00))) */
            *p++ = i == 0 ? 0xE1 : 0xA0;
            *p++ = (uint8_t)(2 * (depth - i));
        }
        n = (int)(p - buf);
        n += cl_test_hex(CHAL0, p, 16);
        buf[6] = (uint8_t)((n - 8) >> 8);
        buf[7] = (uint8_t)(n - 8);
        ck_assert_int_eq(cl_relay_decode(buf, (size_t)n, &m),
                         depth + 1 <= 8 ? CL_OK : CL_ERR_MALFORMED);
    }
}
END_TEST

/* The codec's shape check of a command APDU agrees with cl_apdu_decode()
 * on every APDU of 4..12 bytes over the interesting byte values. */
START_TEST(test_apdu_shape)
{
    static const uint8_t vals[] = { 0x00, 0x01, 0x02, 0x03, 0x05, 0x7F, 0xFF };
    uint8_t buf[32], a[12];
    struct cl_relay_msg m;
    struct cl_apdu d;
    size_t len, i, k, combos;

    for (len = 4; len <= 12; len++) {
        size_t tail = len - 4 < 3 ? len - 4 : 3;   /* vary bytes 4..6 */
        combos = 1;
        for (i = 0; i < tail; i++)
            combos *= sizeof(vals);
        for (k = 0; k < combos; k++) {
            size_t c = k;
            int want, got;
            memset(a, 0xAA, sizeof(a));
            a[0] = 0x00; a[1] = 0xB0; a[2] = 0; a[3] = 0;
            for (i = 0; i < tail; i++, c /= sizeof(vals))
                a[4 + i] = vals[c % sizeof(vals)];
            want = cl_apdu_decode(a, len, &d, NULL);
            memcpy(buf, "\xC1\x20\x00\x01\x00\x00\x00", 7);
            buf[7] = (uint8_t)(2 + len);
            buf[8] = 0x80;
            buf[9] = (uint8_t)len;
            memcpy(buf + 10, a, len);
            got = cl_relay_decode(buf, 10 + len, &m);
            ck_assert_msg(got == want, "%s: relay %d apdu %d", cl_test_tohex(a, len), got, want);
        }
    }
}
END_TEST

/* §7: each byte-string field at N-1, N, N+1 of both of its bounds. */
static const struct {
    const char *head;   /* header and fields before */
    uint8_t tag, fill;
    const char *tail;   /* fields after */
    unsigned lo, hi;    /* hi 0: not testable above lo */
} sizes[] = {
    { "C1 01 00 00 00 00 00 00", 0x80, 0x01, "81 01 41 A2 00", 1, 8 },
    { "C1 01 00 00 00 00 00 00 80 01 01", 0x81, 0x41, "A2 00", 1, 32 },
    { HELLO_HEAD "A2 00", 0x83, 0x00, "", CL_RELAY_TOKEN_MIN, CL_RELAY_TOKEN_MAX },
    { HELLO_HEAD "A2 00", 0x90, 0x41, "", 1, 32 },
    { "C1 02 00 00 00 00 00 00 80 01 01", 0x81, 0x00, "", 8, 32 },
    { ACK_HEAD, 0x90, 0x41, "", 1, 32 },
    { "C1 04 00 00 00 00 00 00 80 01 00", 0x90, 0x41, "", 1, 64 },
    { "C1 10 00 01 00 00 00 00 80 01 01", 0x90, 0x41, "", 1, 64 },
    { "C1 30 00 01 00 00 00 00", 0x80, 0x3B, "81 01 00", 2, CL_ATR_MAX },
    { "C1 2F 04 01 00 01 00 00", 0x80, 0x3B, "81 01 01", 2, CL_ATR_MAX },
    { "C1 21 04 01 00 01 00 00", 0x80, 0x90, "", 2, 0 },
    { "C1 24 00 01 00 00 00 00", 0x80, 0x41, "", 0, 512 },
    { "C1 26 00 01 00 00 00 00 80 01 03", 0x81, 0x41, "", 1, 128 },
    { "C1 27 04 01 00 01 00 00 80 01 00", 0x81, 0x31, "", 1, 64 },
    { TXN_HEAD "81 02 E1 00", 0x82, 0x00, "", 8, 64 },
    { "C1 2D 04 01 00 01 00 00 80 10 " Z16 " 81 01 00", 0x82, 0x00, "", 1, 512 },
};

START_TEST(test_field_sizes)
{
    static uint8_t buf[1024];
    struct cl_relay_msg m;
    unsigned cand[4], c;

    cand[0] = sizes[_i].lo - 1;
    cand[1] = sizes[_i].lo;
    cand[2] = sizes[_i].hi;
    cand[3] = sizes[_i].hi + 1;
    for (c = 0; c < 4; c++) {
        unsigned n = cand[c];
        int len, t;
        uint8_t *p;
        if ((c == 0 && sizes[_i].lo == 0) || (c >= 2 && sizes[_i].hi == 0))
            continue;
        len = cl_test_hex(sizes[_i].head, buf, sizeof(buf));
        p = buf + len;
        *p++ = sizes[_i].tag;
        if (n >= 256) {
            *p++ = 0x82;
            *p++ = (uint8_t)(n >> 8);
        } else if (n >= 128) {
            *p++ = 0x81;
        }
        *p++ = (uint8_t)n;
        memset(p, sizes[_i].fill, n);
        p += n;
        t = cl_test_hex(sizes[_i].tail, p, 64);
        len = (int)(p - buf) + t;
        buf[6] = (uint8_t)((len - 8) >> 8);
        buf[7] = (uint8_t)(len - 8);
        ck_assert_msg(cl_relay_decode(buf, (size_t)len, &m) ==
                          (n >= sizes[_i].lo && n <= sizes[_i].hi + (sizes[_i].hi == 0 ? 9999u : 0u)
                               ? CL_OK : CL_ERR_LENGTH),
                      "row %d size %u", _i, n);
    }
}
END_TEST

/* §7: the transaction (1..4096) and PIN template (6..261) at their ends. */
START_TEST(test_field_sizes_structured)
{
    static uint8_t buf[8192];
    struct cl_relay_msg m;
    unsigned n;

    for (n = 4095; n <= 4097; n++) {             /* 81 82 hi lo  04 82 hi lo data */
        int len = cl_test_hex(TXN_HEAD, buf, sizeof(buf));
        uint8_t *p = buf + len;
        *p++ = 0x81; *p++ = 0x82; *p++ = (uint8_t)(n >> 8); *p++ = (uint8_t)n;
        *p++ = 0x04; *p++ = 0x82; *p++ = (uint8_t)((n - 4) >> 8); *p++ = (uint8_t)(n - 4);
        memset(p, 0x55, n - 4);
        p += n - 4;
        p += cl_test_hex(CHAL0, p, 16);
        len = (int)(p - buf);
        buf[6] = (uint8_t)((len - 8) >> 8);
        buf[7] = (uint8_t)(len - 8);
        ck_assert_int_eq(cl_relay_decode(buf, (size_t)len, &m), n <= 4096 ? CL_OK : CL_ERR_LENGTH);
    }
    for (n = 260; n <= 262; n++) {               /* VERIFY, case 4S: Lc = n - 6 */
        int len = cl_test_hex("C1 28 00 01 00 00 00 00", buf, sizeof(buf));
        uint8_t *p = buf + len;
        *p++ = 0x80; *p++ = 0x82; *p++ = (uint8_t)(n >> 8); *p++ = (uint8_t)n;
        p += cl_test_hex("00 20 00 80", p, 8);
        *p++ = (uint8_t)(n - 6);
        memset(p, 0xFF, n - 6);
        p += n - 6;
        *p++ = 0x00;                               /* Le */
        p += cl_test_hex("81 01 01 82 02 01 10 83 01 00", p, 16);
        len = (int)(p - buf);
        buf[6] = (uint8_t)((len - 8) >> 8);
        buf[7] = (uint8_t)(len - 8);
        ck_assert_int_eq(cl_relay_decode(buf, (size_t)len, &m),
                         n <= 261 ? CL_OK : CL_ERR_LENGTH);
    }
}
END_TEST

/* §7: every table walked to its end: the last row of each table present
 * and then an unknown optional field after it; the type-name and
 * wire-code tables at and past their ends. */
static const char *const table_ends[] = {
    HELLO_HEAD "A2 03 87 01 20 90 01 41 9E 00",
    ACK_HEAD "90 01 41 9E 00",
    "C1 04 00 00 00 00 00 00 80 01 00 90 01 41 9E 00",
    "C1 10 00 01 00 00 00 00 80 01 01 90 01 41 9E 00",
    "C1 30 00 01 00 00 00 00 80 02 3B 00 81 01 02 9E 00",
    "C1 2F 04 01 00 01 00 00 82 01 08 9E 00",
    "C1 32 00 01 00 00 00 00 80 01 1F 9E 00",
    "C1 2E 00 01 00 00 00 00 80 01 01 9E 00",
    "C1 20 00 01 00 00 00 00 80 04 00 A4 04 00 81 10 " Z16 " 9E 00",
    "C1 21 04 01 00 01 00 00 80 02 90 00 9E 00",
    "C1 22 00 01 00 00 00 00 A2 09 80 04 00 A4 04 00 82 01 01 9E 00",
    "C1 23 04 01 00 01 00 00 A2 04 80 02 90 00 9E 00",
    "C1 24 00 01 00 00 00 00 80 00 81 01 05 9E 00",
    "C1 26 00 01 00 00 00 00 80 01 03 81 01 41 83 01 05 9E 00",
    "C1 27 04 01 00 01 00 00 80 01 00 81 01 31 9E 00",
    "C1 28 00 01 00 00 00 00 80 06 00 20 00 80 01 FF 81 01 01 82 02 01 01 83 01 00 86 01 02 9E 00",
    "C1 2A 00 01 00 00 00 00 80 06 00 24 00 80 01 FF 81 01 01 82 02 01 01 87 01 00 88 01 01 9E 00",
    "C1 29 04 01 00 01 00 00 81 01 0B 9E 00",
    TXN_HEAD "81 02 E1 00" CHAL0 " 85 01 02 9E 00",
    "C1 2D 04 01 00 01 00 00 80 10 " Z16 " 81 01 02 84 01 0C 9E 00",
};

START_TEST(test_table_ends)
{
    uint8_t buf[256];
    struct cl_relay_msg m;
    int n = cl_test_hex(table_ends[_i], buf, sizeof(buf));

    ck_assert_int_gt(n, 8);
    buf[6] = (uint8_t)((n - 8) >> 8);
    buf[7] = (uint8_t)(n - 8);
    ck_assert_int_eq(cl_relay_decode(buf, (size_t)n, &m), CL_OK);
    buf[n - 2] = 0x8F;                           /* a critical field past the end */
    ck_assert_int_eq(cl_relay_decode(buf, (size_t)n, &m), CL_ERR_TAG);
}
END_TEST

START_TEST(test_name_ends)
{
    static const uint8_t none[] = { 0x00, 0x05, 0x0F, 0x11, 0x1F, 0x33, 0x7F, 0x80, 0xFF };
    size_t i;

    ck_assert_str_eq(cl_relay_type_name(CL_RELAY_HELLO), "HELLO");
    ck_assert_str_eq(cl_relay_type_name(CL_RELAY_CLOSE), "CLOSE");
    ck_assert_str_eq(cl_relay_type_name(CL_RELAY_ERROR), "ERROR");
    ck_assert_str_eq(cl_relay_type_name(CL_RELAY_APDU), "APDU");
    ck_assert_str_eq(cl_relay_type_name(CL_RELAY_READER_STATUS), "READER-STATUS");
    for (i = 0; i < sizeof(none); i++)
        ck_assert_str_eq(cl_relay_type_name(none[i]), "?");
    ck_assert_int_eq(cl_relay_err_from_wire(CL_RELAY_E_PROTOCOL), CL_ERR_PROTOCOL);
    ck_assert_int_eq(cl_relay_err_from_wire(CL_RELAY_E_PROTOCOL + 1), CL_ERR_PROTOCOL);
    ck_assert_uint_eq(cl_relay_err_to_wire(CL_ERR_PROTOCOL), CL_RELAY_E_PROTOCOL);
}
END_TEST

/* Script and response lists bounded by CL_RELAY_SCRIPT_MAX. */
START_TEST(test_script_limit)
{
    static uint8_t buf[16 + 8 * 256];
    struct cl_relay_msg m;
    size_t i, n, body;

    for (n = CL_RELAY_SCRIPT_MAX - 1u; n <= CL_RELAY_SCRIPT_MAX + 1u; n++) {
        size_t p = 10;
        for (i = 0; i < n; i++) {
            static const uint8_t step[] = { 0x80, 0x04, 0x00, 0xA4, 0x04, 0x00 };
            memcpy(buf + p, step, sizeof(step));
            p += sizeof(step);
        }
        body = p - 8;
        memcpy(buf, "\xC1\x22\x00\x01\x00\x00", 6);
        buf[6] = (uint8_t)(body >> 8);
        buf[7] = (uint8_t)body;
        buf[8] = 0xA2;
        buf[9] = (uint8_t)(body - 2);
        if (body - 2 > 127) {   /* long form: shift right by one */
            memmove(buf + 11, buf + 10, p - 10);
            buf[9] = 0x81;
            buf[10] = (uint8_t)(body - 2);
            p++;
            body++;
            buf[6] = (uint8_t)(body >> 8);
            buf[7] = (uint8_t)body;
        }
        ck_assert_int_eq(cl_relay_decode(buf, p, &m),
                         n <= CL_RELAY_SCRIPT_MAX ? CL_OK : CL_ERR_TOO_LONG);
    }
    cl_relay_msg_init(&m, CL_RELAY_SCRIPT);
    m.u.script.nsteps = CL_RELAY_SCRIPT_MAX + 1;
    ck_assert_int_eq(cl_relay_encode(&m, buf, sizeof(buf), &n), CL_ERR_TOO_LONG);
    m.u.script.nsteps = 0;
    ck_assert_int_eq(cl_relay_encode(&m, buf, sizeof(buf), &n), CL_ERR_MALFORMED);
    cl_relay_msg_init(&m, CL_RELAY_SCRIPT_RESULT);
    m.flags = REF;
    m.u.script_result.nresp = CL_RELAY_SCRIPT_MAX + 1;
    ck_assert_int_eq(cl_relay_encode(&m, buf, sizeof(buf), &n), CL_ERR_TOO_LONG);
}
END_TEST

/* Long fields: 2-byte lengths, the 65535-byte body bound. */
START_TEST(test_large)
{
    static uint8_t apdu[4 + 3 + 65535], out[70000];
    struct cl_relay_msg m, d;
    size_t len;

    memset(apdu, 0x5A, sizeof(apdu));
    apdu[0] = 0x00; apdu[1] = 0xD6; apdu[2] = 0; apdu[3] = 0;
    apdu[4] = 0x00; apdu[5] = 0xFF; apdu[6] = 0xF0;   /* case 3E, Nc = 65520 */
    cl_relay_msg_init(&m, CL_RELAY_APDU);
    m.u.apdu.apdu.data = apdu;
    m.u.apdu.apdu.len = 7 + 0xFFF0;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    ck_assert_uint_eq(len, 8 + 4 + 7 + 0xFFF0);
    ck_assert_int_eq(cl_relay_decode(out, len, &d), CL_OK);
    ck_assert_uint_eq(d.u.apdu.apdu.len, 7 + 0xFFF0);
    apdu[5] = 0xFF; apdu[6] = 0xF8;                   /* 65535-byte APDU + txn id */
    m.u.apdu.apdu.len = 7 + 0xFFF8;
    m.u.apdu.txn_id = apdu;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_TOO_LONG);
    ck_assert_uint_eq(len, 0);
    cl_relay_msg_init(&m, CL_RELAY_DISPLAY);          /* display text > 512 */
    memset(apdu, 'A', 513);
    m.u.display.text.data = apdu;
    m.u.display.text.len = 513;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_LENGTH);
    m.u.display.text.len = 512;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    ck_assert_int_eq(cl_relay_decode(out, len, &d), CL_OK);
    ck_assert_uint_eq(out[8 + 1], 0x82);              /* 2-byte length form */
}
END_TEST

/* Encoder argument and content errors. */
START_TEST(test_encode_errors)
{
    struct cl_relay_msg m;
    uint8_t out[256];
    size_t len;

    b_apdu(&m);
    ck_assert_int_eq(cl_relay_encode(NULL, out, sizeof(out), &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), NULL), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_encode(&m, NULL, 10, &len), CL_ERR_ARG);
    m.u.apdu.apdu.data = NULL;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_ARG);
    b_apdu(&m);
    m.type = 0x7F;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_UNSUPPORTED);
    b_apdu(&m);
    m.flags = 0x10;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_RESERVED);
    b_keepalive(&m);
    m.seq = 3;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_MALFORMED);
    b_script(&m);
    m.u.script.steps[1].expect.kind = 7;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_ARG);
    b_script(&m);
    m.u.script.steps[1].expect.value = 0x6110;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_MALFORMED);
    b_script(&m);
    m.u.script.steps[2].apdu.data = NULL;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_ARG);
    b_script(&m);
    m.u.script.steps[2].apdu.len = 3;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_LENGTH);
    b_card_inserted(&m);
    m.u.card.protocol = CL_RELAY_NONE;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_RESERVED);
    b_txn_result(&m);
    m.u.txn_result.txn_id = NULL;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_MALFORMED);
    b_txn_approve(&m);
    m.u.txn.pin.apdu = hb("00 D6 00 00 08 24 FF FF FF FF FF FF FF");  /* UPDATE BINARY: */
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK); /* policy's */
    m.u.txn.sign_cmd[0] = 0xFF;                       /* so is the sign command */
    m.u.txn.sign_cmd[1] = 0xB0;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    b_txn_approve(&m);
    m.u.txn.pin.apdu = hb("00 20 00 80");            /* 4 bytes: below the template's */
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_LENGTH); /* 6..261 */
    b_txn_approve(&m);
    m.u.txn.has_pin = false;                          /* template ignored */
    m.u.txn.pin.encoding = 9;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    b_hello(&m);
    m.u.hello.software = tb("caf\xc3\xa9");
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_MALFORMED);
}
END_TEST

/* Decoded values: pointers into the input, defaults, sentinels. */
START_TEST(test_decoded_values)
{
    const struct block *b = find_block("txn-approve-nopin");
    const struct block *s = find_block("script");
    const struct block *p = find_block("pin-verify");
    struct cl_relay_msg m;

    ck_assert(b && s && p);
    ck_assert_int_eq(cl_relay_decode(b->bytes, b->len, &m), CL_OK);
    ck_assert_ptr_eq(m.u.txn.txn_id, b->bytes + 10);
    ck_assert(!m.u.txn.has_pin);
    ck_assert_uint_eq(m.u.txn.sign_cmd[1], 0x88);
    ck_assert_uint_eq(m.u.txn.digest, CL_RELAY_DIGEST_SHA384);
    ck_assert_uint_eq(m.u.txn.challenge.len, 8);
    ck_assert_int_eq(cl_relay_decode(s->bytes, s->len, &m), CL_OK);
    ck_assert_uint_eq(m.u.script.nsteps, 3);
    ck_assert_ptr_null(m.u.script.txn_id);
    ck_assert_uint_eq(m.u.script.steps[0].expect.kind, CL_RELAY_EXPECT_EXACT);
    ck_assert_uint_eq(m.u.script.steps[1].expect.mask, 0xFF00);
    ck_assert_uint_eq(m.u.script.steps[2].expect.kind, CL_RELAY_EXPECT_SUCCESS);
    ck_assert_uint_eq(m.u.script.steps[0].options, CL_RELAY_STEP_SW_ONLY);
    ck_assert_uint_eq(m.u.script.steps[2].apdu.len, 5);
    ck_assert_int_eq(cl_relay_decode(p->bytes, p->len, &m), CL_OK);
    ck_assert_uint_eq(m.u.pin.len_offset, CL_RELAY_NONE);
    ck_assert_uint_eq(m.u.pin.timeout, 30);
    ck_assert_uint_eq(m.u.pin.offset, 0);
    ck_assert_int_eq(cl_relay_decode(NULL, 8, &m), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_decode(p->bytes, p->len, NULL), CL_ERR_ARG);
}
END_TEST

START_TEST(test_header_decode)
{
    struct cl_relay_header h;
    uint8_t buf[8];

    ck_assert_int_eq(cl_test_hex("C1 21 05 03 01 01 01 02", buf, 8), 8);
    ck_assert_int_eq(cl_relay_header_decode(buf, 8, &h), CL_OK);
    ck_assert_uint_eq(h.type, 0x21);
    ck_assert_uint_eq(h.flags, 5);
    ck_assert_uint_eq(h.seq, 3);
    ck_assert_uint_eq(h.ack, 1);
    ck_assert_uint_eq(h.ref, 1);
    ck_assert_uint_eq(h.length, 0x102);
    ck_assert_int_eq(cl_relay_header_decode(buf, 7, &h), CL_ERR_TRUNCATED);
    ck_assert_int_eq(cl_relay_header_decode(NULL, 8, &h), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_header_decode(NULL, 0, &h), CL_ERR_TRUNCATED);
}
END_TEST

START_TEST(test_expect_match)
{
    struct cl_relay_expect e = { CL_RELAY_EXPECT_SUCCESS, 0, 0 };

    ck_assert(cl_relay_expect_match(&e, 0x9000));
    ck_assert(cl_relay_expect_match(&e, 0x6110));
    ck_assert(!cl_relay_expect_match(&e, 0x9001));
    ck_assert(!cl_relay_expect_match(&e, 0x6283));
    e.kind = CL_RELAY_EXPECT_EXACT;
    e.value = 0x6A82;
    ck_assert(cl_relay_expect_match(&e, 0x6A82));
    ck_assert(!cl_relay_expect_match(&e, 0x9000));
    e.kind = CL_RELAY_EXPECT_MASKED;
    e.value = 0x6100;
    e.mask = 0xFF00;
    ck_assert(cl_relay_expect_match(&e, 0x61FF));
    ck_assert(!cl_relay_expect_match(&e, 0x6200));
    e.kind = 9;
    ck_assert(!cl_relay_expect_match(&e, 0x9000));
}
END_TEST

START_TEST(test_wire_codes)
{
    unsigned c;

    for (c = 0; c <= 0x11; c++)
        ck_assert_uint_eq(cl_relay_err_to_wire(cl_relay_err_from_wire((uint8_t)c)), c);
    ck_assert_int_eq(cl_relay_err_from_wire(0x12), CL_ERR_PROTOCOL);
    ck_assert_int_eq(cl_relay_err_from_wire(0xFF), CL_ERR_PROTOCOL);
    ck_assert_uint_eq(cl_relay_err_to_wire(CL_ERR_TAG), CL_RELAY_E_MALFORMED);
    ck_assert_uint_eq(cl_relay_err_to_wire(CL_ERR_CARD_REMOVED), CL_RELAY_E_NO_CARD);
    ck_assert_uint_eq(cl_relay_err_to_wire(CL_ERR_SIGNATURE), CL_RELAY_E_PROTOCOL);
    ck_assert_str_eq(cl_relay_type_name(CL_RELAY_SCRIPT_RESULT), "SCRIPT-RESULT");
    ck_assert_str_eq(cl_relay_type_name(0x7F), "?");
}
END_TEST


/* docs/protocol.md §14: a 10-APDU dialogue (SELECT of 13 bytes answered
 * by 32, nine 5-byte READ RECORDs answered by 42 bytes each) costs 668
 * bytes in 20 messages one APDU at a time, 530 bytes in 2 as a script. */
#if CL_RELAY_SCRIPT_MAX >= 10
/* The TXN-APPROVE example carries a transaction that lib/txn accepts, whose
 * id is the message's field 80 (docs/protocol.md §5.12). */
START_TEST(test_txn_approve_carries_valid_txn)
{
    static uint8_t wire[512];
    static struct cl_txn txn;
    struct cl_relay_msg m;
    int n = cl_test_hex(
        "C1 2C 01 0A 0A 00 00 5B 80 10 " TXNID " 81 34 " TXN
        " 82 08 C4 5D 19 7A 0B E2 68 F3 84 04 00 88 00 00 85 01 02", wire, sizeof(wire));

    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(cl_relay_decode(wire, (size_t)n, &m), CL_OK);
    ck_assert_int_eq(cl_txn_decode(m.u.txn.txn.data, m.u.txn.txn.len, &txn), CL_OK);
    ck_assert_int_eq(cl_txn_check(&txn), CL_OK);
    ck_assert_mem_eq(txn.id, m.u.txn.txn_id, 16);
}
END_TEST

START_TEST(test_byte_budget)
{
    static uint8_t cmd[13], resp[42], out[2048];
    struct cl_relay_msg m;
    size_t i, len, per_apdu = 0, script = 0;

    memcpy(cmd, "\x00\xA4\x04\x00\x07\xA0\x00\x00\x00\x03\x10\x10\x00", 13);
    memset(resp, 0x42, sizeof(resp));
    resp[40] = 0x90;
    resp[41] = 0x00;
    for (i = 0; i < 10; i++) {
        cl_relay_msg_init(&m, CL_RELAY_APDU);
        m.u.apdu.apdu.data = i == 0 ? cmd : (const uint8_t *)"\x00\xB2\x01\x0C\x00";
        m.u.apdu.apdu.len = i == 0 ? 13 : 5;
        ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
        per_apdu += len;
        cl_relay_msg_init(&m, CL_RELAY_APDU_RESPONSE);
        m.flags = REF;
        m.u.apdu.apdu.data = resp + (i == 0 ? 10 : 0);
        m.u.apdu.apdu.len = i == 0 ? 32 : 42;
        ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
        per_apdu += len;
    }
    ck_assert_uint_eq(per_apdu, 158 + 510);
    cl_relay_msg_init(&m, CL_RELAY_SCRIPT);
    m.u.script.nsteps = 10;
    for (i = 0; i < 10; i++) {
        m.u.script.steps[i].apdu.data = i == 0 ? cmd : (const uint8_t *)"\x00\xB2\x01\x0C\x00";
        m.u.script.steps[i].apdu.len = i == 0 ? 13 : 5;
    }
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    ck_assert_uint_eq(len, 88);
    script += len;
    cl_relay_msg_init(&m, CL_RELAY_SCRIPT_RESULT);
    m.flags = REF;
    m.u.script_result.nresp = 10;
    for (i = 0; i < 10; i++) {
        m.u.script_result.resp[i].data = resp + (i == 0 ? 10 : 0);
        m.u.script_result.resp[i].len = i == 0 ? 32 : 42;
    }
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    ck_assert_uint_eq(len, 442);
    script += len;
    ck_assert_uint_eq(script, 530);
}
END_TEST
#endif

/* ------------------------------------------------------------ stream */

static uint8_t stream_all[8192];
static size_t stream_len, stream_count;

static void build_stream(void)
{
    size_t j;
    stream_len = stream_count = 0;
    for (j = 0; j < CL_ARRAY_LEN(examples); j++) {
        const struct block *b = find_block(examples[j].name);
        ck_assert(b && stream_len + b->len <= sizeof(stream_all));
        memcpy(stream_all + stream_len, b->bytes, b->len);
        stream_len += b->len;
        stream_count++;
    }
}

/* Feed the concatenated examples in chunks of the given sizes; every
 * message comes out whole, in order. chunk 0 means pseudo-random 1..97. */
static void run_stream(size_t chunk, uint32_t seed)
{
    struct cl_relay_stream s;
    uint8_t buf[MAX_MSG];
    size_t pos = 0, got = 0, off = 0;

    cl_relay_stream_init(&s, buf, sizeof(buf));
    while (pos < stream_len) {
        size_t n = chunk, used;
        if (n == 0) {
            seed = seed * 1103515245u + 12345u;
            n = 1 + (seed >> 16) % 97;
        }
        if (n > stream_len - pos)
            n = stream_len - pos;
        while (n > 0) {
            const uint8_t *msg;
            size_t len;
            ck_assert_int_eq(dfeed(&s, stream_all + pos, n, &used), CL_OK);
            pos += used;
            n -= used;
            if (cl_relay_stream_ready(&s)) {
                ck_assert_int_eq(cl_relay_stream_take(&s, &msg, &len), CL_OK);
                ck_assert(memcmp(msg, stream_all + off, len) == 0);
                off += len;
                got++;
            } else {
                ck_assert_uint_eq(n, 0);
            }
        }
    }
    ck_assert_uint_eq(got, stream_count);
    ck_assert_uint_eq(off, stream_len);
}

START_TEST(test_stream_chunks)
{
    static const size_t chunks[] = { 1, 2, 3, 7, 8, 9, 64, 4096 };
    size_t i;
    uint32_t seed;

    build_stream();
    for (i = 0; i < CL_ARRAY_LEN(chunks); i++)
        run_stream(chunks[i], 0);
    for (seed = 1; seed <= 50; seed++)
        run_stream(0, seed);
}
END_TEST

/* The deframer's edges (a one-at-a-time fault run of relay_stream.c): a
 * body past 255 bytes (the length's high byte), in one call and in
 * pieces; set up over memory that held anything; the error accessor and
 * the FAILED want; no buffer; free. */
START_TEST(test_stream_edges)
{
    struct cl_relay_stream s;
    uint8_t buf[400], in[400];
    const uint8_t *msg;
    size_t used, len, off;

    memset(in, 0x5A, sizeof(in));
    ck_assert_int_eq(cl_test_hex("C1 20 00 01 00 00 01 2C", in, sizeof(in)), 8);
    memset(&s, 0xFF, sizeof(s));
    cl_relay_stream_init(&s, buf, sizeof(buf));
    ck_assert_int_eq(cl_relay_stream_error(&s), CL_OK);
    ck_assert_int_eq(dfeed(&s, in, sizeof(in), &used), CL_OK);
    ck_assert_uint_eq(used, 308);
    ck_assert_int_eq(cl_relay_stream_take(&s, &msg, &len), CL_OK);
    ck_assert_uint_eq(len, 308);
    ck_assert(memcmp(msg, in, 308) == 0);
    for (off = 0; off < 308; off += used) {     /* in pieces of 7 */
        ck_assert(!cl_relay_stream_ready(&s));
        ck_assert_int_eq(dfeed(&s, in + off, 308 - off < 7 ? 308 - off : 7,
                                              &used), CL_OK);
        ck_assert_uint_gt(used, 0);
    }
    ck_assert_int_eq(cl_relay_stream_take(&s, &msg, &len), CL_OK);
    ck_assert_uint_eq(len, 308);
    /* one byte more than the buffer: TOO_LONG, FAILED, the error kept */
    in[6] = 0x01;
    in[7] = 0x89;                               /* 8 + 393 = 401 */
    ck_assert_int_eq(dfeed(&s, in, 8, &used), CL_ERR_TOO_LONG);
    ck_assert_int_eq(cl_relay_stream_want(&s), CL_WANT_FAILED);
    ck_assert_int_eq(cl_relay_stream_error(&s), CL_ERR_TOO_LONG);
    ck_assert_int_eq(cl_relay_stream_error(NULL), CL_ERR_ARG);
    in[7] = 0x88;                               /* exactly 400 */
    cl_relay_stream_reset(&s);
    ck_assert_int_eq(dfeed(&s, in, 400, &used), CL_OK);
    ck_assert(cl_relay_stream_ready(&s));
    /* no buffer: the first byte is too many */
    cl_relay_stream_init(&s, NULL, sizeof(buf));
    ck_assert_int_eq(dfeed(&s, in, 1, &used), CL_ERR_TOO_LONG);
    ck_assert_uint_eq(used, 0);
    cl_relay_stream_free(&s);
    {
        static const struct cl_relay_stream wiped;   /* free() leaves every byte 0 */
        ck_assert_mem_eq(&s, &wiped, sizeof(s));
    }
    cl_relay_stream_free(NULL);
    cl_relay_stream_reset(NULL);
    cl_relay_stream_init(NULL, buf, sizeof(buf));
}
END_TEST

START_TEST(test_stream_errors)
{
    struct cl_relay_stream s;
    uint8_t buf[32], in[64];
    const uint8_t *msg;
    size_t used, len;

    cl_relay_stream_init(&s, buf, sizeof(buf));
    ck_assert_int_eq(cl_relay_stream_take(&s, &msg, &len), CL_ERR_STATE);
    ck_assert(!cl_relay_stream_ready(&s));
    ck_assert_int_eq(dfeed(&s, NULL, 0, &used), CL_OK);
    ck_assert_uint_eq(used, 0);
    ck_assert_int_eq(dfeed(&s, NULL, 1, &used), CL_ERR_ARG);
    ck_assert_int_eq(dfeed(NULL, in, 1, &used), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_stream_take(&s, NULL, &len), CL_ERR_ARG);

    /* not cardlink at the first byte */
    in[0] = 'G';
    ck_assert_int_eq(dfeed(&s, in, 1, &used), CL_ERR_MALFORMED);
    ck_assert_uint_eq(used, 0);
    ck_assert_int_eq(dfeed(&s, in, 1, &used), CL_ERR_MALFORMED);  /* sticky */
    ck_assert_int_eq(cl_relay_stream_take(&s, &msg, &len), CL_ERR_MALFORMED);
    cl_relay_stream_reset(&s);
    ck_assert_int_eq(cl_test_hex("C1 03 00 00 00 00 00 00 C2", in, sizeof(in)), 9);
    ck_assert_int_eq(dfeed(&s, in, 9, &used), CL_OK);
    ck_assert_uint_eq(used, 8);
    ck_assert(cl_relay_stream_ready(&s));
    ck_assert_int_eq(dfeed(&s, in + 8, 1, &used), CL_OK);  /* pending: nothing taken */
    ck_assert_uint_eq(used, 0);
    ck_assert_int_eq(cl_relay_stream_take(&s, &msg, &len), CL_OK);
    ck_assert_uint_eq(len, 8);
    ck_assert_int_eq(cl_relay_stream_take(&s, &msg, &len), CL_ERR_STATE);
    ck_assert_int_eq(dfeed(&s, in + 8, 1, &used), CL_ERR_VERSION);
    ck_assert_uint_eq(used, 0);

    /* reserved flags at byte 2, after two good bytes */
    cl_relay_stream_reset(&s);
    ck_assert_int_eq(cl_test_hex("C1 03 08", in, sizeof(in)), 3);
    ck_assert_int_eq(dfeed(&s, in, 2, &used), CL_OK);
    ck_assert_uint_eq(used, 2);
    ck_assert_int_eq(dfeed(&s, in + 2, 1, &used), CL_ERR_RESERVED);

    /* oversize: 8 + 25 > 32 */
    cl_relay_stream_reset(&s);
    ck_assert_int_eq(cl_test_hex("C1 24 00 01 00 00 00 19 80", in, sizeof(in)), 9);
    ck_assert_int_eq(dfeed(&s, in, 7, &used), CL_OK);   /* found with the header's last byte */
    ck_assert_uint_eq(used, 7);
    ck_assert_int_eq(dfeed(&s, in + 7, 2, &used), CL_ERR_TOO_LONG);
    /* exactly the size fits */
    cl_relay_stream_reset(&s);
    memset(in, 'A', sizeof(in));
    ck_assert_int_eq(cl_test_hex("C1 24 00 01 00 00 00 18 80 16", in, sizeof(in)), 10);
    memset(in + 10, 'A', 22);
    ck_assert_int_eq(dfeed(&s, in, 32, &used), CL_OK);
    ck_assert_uint_eq(used, 32);
    ck_assert_int_eq(cl_relay_stream_take(&s, &msg, &len), CL_OK);
    {
        struct cl_relay_msg m;
        ck_assert_int_eq(cl_relay_decode(msg, len, &m), CL_OK);
        ck_assert_uint_eq(m.u.display.text.len, 22);
    }
    /* a buffer below the header size accepts nothing */
    cl_relay_stream_init(&s, buf, 4);
    ck_assert_int_eq(dfeed(&s, in, 4, &used), CL_OK);
    ck_assert_uint_eq(used, 4);
    ck_assert_int_eq(dfeed(&s, in + 4, 4, &used), CL_ERR_TOO_LONG);
    cl_relay_stream_reset(NULL);
}
END_TEST

/* The writer's and the list walker's edges (a one-at-a-time fault run of
 * relay_msg_walk.c): a step without an expectation decodes as "success"
 * whatever the memory held, a field of exactly 128 bytes takes the 81 80
 * length, a constructed field past 127 bytes is moved behind its longer
 * length, a SCRIPT of exactly CL_RELAY_SCRIPT_MAX steps, a pair whose
 * second byte is 0, a mandatory number 0, NULL data with a length. */
START_TEST(test_walk_edges)
{
    static const char script_hex[] =
        "C1 22 00 01 00 00 00 12 A2 10 80 04 00 A4 00 00 81 02 90 00 80 04 00 B0 00 00";
    struct cl_relay_msg m, d;
    struct cl_relay_header hd;
    uint8_t in[64], big[260], out[1024], exact[64];
    size_t len, i;
    int n = cl_test_hex(script_hex, in, sizeof(in));

    /* the second step's expectation, over memory that held anything */
    memset(&d, 0xFF, sizeof(d));
    ck_assert_int_eq(cl_relay_decode(in, (size_t)n, &d), CL_OK);
    ck_assert_uint_eq(d.u.script.nsteps, 2);
    ck_assert_uint_eq(d.u.script.steps[0].expect.kind, CL_RELAY_EXPECT_EXACT);
    ck_assert_uint_eq(d.u.script.steps[0].expect.value, 0x9000);
    ck_assert_uint_eq(d.u.script.steps[1].expect.kind, CL_RELAY_EXPECT_SUCCESS);
    ck_assert_uint_eq(d.u.script.steps[1].expect.value, 0);
    ck_assert_uint_eq(d.u.script.steps[1].expect.mask, 0);
    ck_assert_uint_eq(d.u.script.steps[1].options, 0);

    /* an APDU field of exactly 128 bytes: 80 81 80 */
    memset(big, 0x5A, sizeof(big));
    big[0] = 0x00; big[1] = 0xD6; big[2] = 0x00; big[3] = 0x00; big[4] = 123;
    b_apdu(&m);
    m.u.apdu.apdu.data = big;
    m.u.apdu.apdu.len = 128;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    ck_assert_uint_eq(len, 8 + 3 + 128);
    cl_assert_bytes(out + 8, 8, "80 81 80 00 D6 00 00 7B");
    ck_assert_int_eq(cl_relay_decode(out, len, &d), CL_OK);
    ck_assert_uint_eq(d.u.apdu.apdu.len, 128);

    /* SCRIPT steps of 205 + 6 + 5 bytes: A2 81 xx, the steps moved whole */
    b_script(&m);
    big[4] = 200;
    m.u.script.steps[1].apdu.data = big;
    m.u.script.steps[1].apdu.len = 205;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    ck_assert_int_eq(cl_relay_decode(out, len, &d), CL_OK);
    ck_assert_uint_eq(d.u.script.nsteps, 3);
    cl_assert_bytes(d.u.script.steps[0].apdu.data, d.u.script.steps[0].apdu.len,
                    "00 A4 04 00 07 A0 00 00 00 03 10 10 00");
    ck_assert_uint_eq(d.u.script.steps[1].apdu.len, 205);
    ck_assert(memcmp(d.u.script.steps[1].apdu.data, big, 205) == 0);
    ck_assert_uint_eq(d.u.script.steps[1].expect.mask, 0xFF00);
    cl_assert_bytes(d.u.script.steps[2].apdu.data, d.u.script.steps[2].apdu.len,
                    "00 B2 02 0C 00");

    /* exactly CL_RELAY_SCRIPT_MAX steps, then one more */
    b_script(&m);
    m.u.script.nsteps = CL_RELAY_SCRIPT_MAX;
    for (i = 0; i < CL_RELAY_SCRIPT_MAX; i++) {
        memset(&m.u.script.steps[i], 0, sizeof(m.u.script.steps[i]));
        m.u.script.steps[i].apdu = hb("00 B0 00 00 01");
    }
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    ck_assert_int_eq(cl_relay_decode(out, len, &d), CL_OK);
    ck_assert_uint_eq(d.u.script.nsteps, CL_RELAY_SCRIPT_MAX);
    m.u.script.nsteps = CL_RELAY_SCRIPT_MAX + 1;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_TOO_LONG);

    /* a display of 40 columns and 0 rows is sent as it is */
    b_hello(&m);
    m.u.hello.caps.display_cols = 40;
    m.u.hello.caps.display_rows = 0;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    ck_assert_int_eq(cl_relay_decode(out, len, &d), CL_OK);
    ck_assert_uint_eq(d.u.hello.caps.display_cols, 40);
    ck_assert_uint_eq(d.u.hello.caps.display_rows, 0);

    /* a mandatory time of 0 is written */
    b_actuate(&m);
    m.u.actuate.not_before = 0;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    ck_assert_int_eq(cl_relay_decode(out, len, &d), CL_OK);
    ck_assert_uint_eq(d.u.actuate.not_before, 0);
    ck_assert_uint_eq(d.u.actuate.not_after, 0x6A0E3D2Cu);

    /* NULL data with a length of 1 is the caller's error */
    b_apdu(&m);
    m.u.apdu.apdu.data = NULL;
    m.u.apdu.apdu.len = 1;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_ARG);
    b_script(&m);
    m.u.script.steps[2].apdu.data = NULL;
    m.u.script.steps[2].apdu.len = 1;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_ARG);
    b_script_result(&m);
    m.u.script_result.resp[1].data = NULL;
    m.u.script_result.resp[1].len = 1;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_ARG);
    b_apdu(&m);
    ck_assert_int_eq(cl_relay_encode(&m, NULL, 1, &len), CL_ERR_ARG);
    ck_assert_int_eq(cl_relay_header_decode(NULL, 1, &hd), CL_ERR_ARG);

    /* a buffer of exactly the message's size; one byte less */
    b_apdu(&m);
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    ck_assert_int_eq(cl_relay_encode(&m, exact, len, &i), CL_OK);
    ck_assert_uint_eq(i, len);
    ck_assert(memcmp(exact, out, len) == 0);
    ck_assert_int_eq(cl_relay_encode(&m, exact, len - 1, &i), CL_ERR_BUFFER);
    b_keepalive(&m);
    ck_assert_int_eq(cl_relay_encode(&m, exact, 8, &i), CL_OK);
    ck_assert_uint_eq(i, 8);

    /* max APDU with the response size 0 and the command size set */
    b_hello(&m);
    m.u.hello.caps.max_resp_apdu = 0;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_MALFORMED);

    /* exactly CL_RELAY_SCRIPT_MAX responses both ways; one more decoded */
    b_script_result(&m);
    m.u.script_result.nresp = CL_RELAY_SCRIPT_MAX;
    for (i = 0; i < CL_RELAY_SCRIPT_MAX; i++)
        m.u.script_result.resp[i] = hb("90 00");
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    ck_assert_int_eq(cl_relay_decode(out, len, &d), CL_OK);
    ck_assert_uint_eq(d.u.script_result.nresp, CL_RELAY_SCRIPT_MAX);
    n = cl_test_hex("C1 23 04 01 00 01 00 00 A2 81 00", out, sizeof(out));
    for (i = 0; i <= CL_RELAY_SCRIPT_MAX; i++)
        n += cl_test_hex("80 02 90 00", out + n, sizeof(out) - (size_t)n);
    out[10] = (uint8_t)(4 * (CL_RELAY_SCRIPT_MAX + 1));
    out[7] = (uint8_t)(n - 8);
    ck_assert_int_eq(cl_relay_decode(out, (size_t)n, &d), CL_ERR_TOO_LONG);
}
END_TEST

/* A body of exactly CL_RELAY_BODY_MAX bytes (an extended APDU of 65,531
 * bytes behind 80 82 FF FB) is written; one byte more is not. */
START_TEST(test_body_max)
{
    static uint8_t apdu[65532], out[CL_RELAY_MSG_MAX + 1];
    struct cl_relay_msg m, d;
    size_t len = 0;

    memset(apdu, 0x33, sizeof(apdu));
    apdu[0] = 0x00; apdu[1] = 0xD6; apdu[2] = 0x00; apdu[3] = 0x00;
    apdu[4] = 0x00; apdu[5] = 0xFF; apdu[6] = 0xF4;      /* Lc 65,524 */
    b_apdu(&m);
    m.u.apdu.apdu.data = apdu;
    m.u.apdu.apdu.len = 65531;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_OK);
    ck_assert_uint_eq(len, CL_RELAY_MSG_MAX);
    cl_assert_bytes(out + 6, 5, "FF FF 80 82 FF");
    ck_assert_int_eq(cl_relay_decode(out, len, &d), CL_OK);
    ck_assert_uint_eq(d.u.apdu.apdu.len, 65531);
    apdu[6] = 0xF5;
    m.u.apdu.apdu.len = 65532;
    ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), CL_ERR_TOO_LONG);
}
END_TEST

/* The rules' edges (a one-at-a-time fault run of relay_msg_rules.c): each
 * bound at its value, the first value past it, and what a rule pairs. */
START_TEST(test_rule_edges)
{
    struct cl_relay_msg m;
    uint8_t out[1024];
    size_t len;

#define ENC(rc) ck_assert_int_eq(cl_relay_encode(&m, out, sizeof(out), &len), (rc))
    /* ACTUATE: a window of one second (not before = not after) */
    b_actuate(&m);
    m.u.actuate.not_after = m.u.actuate.not_before;
    ENC(CL_OK);
    m.u.actuate.not_after--;
    ENC(CL_ERR_MALFORMED);
    /* CARD-RESET-RESULT: an error has neither ATR nor protocol; a success
     * has both, the shortest ATR (2 bytes) is enough */
    b_card_reset_result_mute(&m);
    ENC(CL_OK);
    m.u.card.atr = hb("3B 00");
    ENC(CL_ERR_MALFORMED);
    b_card_reset_result_mute(&m);
    m.u.card.protocol = CL_RELAY_PROTO_T0;
    ENC(CL_ERR_MALFORMED);
    b_card_reset_result(&m);
    m.u.card.atr = hb("3B 00");
    ENC(CL_OK);
    /* PROMPT: 1 <= max <= 64, min <= max */
    b_prompt_numeric(&m);
    m.u.prompt.min_len = 0;
    m.u.prompt.max_len = 1;
    ENC(CL_OK);
    m.u.prompt.min_len = 4;
    m.u.prompt.max_len = 4;
    ENC(CL_OK);
    m.u.prompt.max_len = 64;
    ENC(CL_OK);
    m.u.prompt.max_len = 65;
    ENC(CL_ERR_MALFORMED);
    m.u.prompt.max_len = 3;
    ENC(CL_ERR_MALFORMED);
    /* text: 20..7E printable, 7E included */
    b_display(&m);
    m.u.display.text = tb("~ ok ~");
    ENC(CL_OK);
    m.u.display.text = hb("41 7F");
    ENC(CL_ERR_MALFORMED);
    /* PIN template: max 16 (14 for format 2) */
    b_pin_verify_bcd(&m);       /* 17 digits would fit: 9 BCD bytes at offset 1 */
    m.u.pin.apdu = hb("00 20 00 01 0A 00 FF FF FF FF FF FF FF FF FF");
    m.u.pin.max_len = 16;
    ENC(CL_OK);
    m.u.pin.max_len = 17;
    ENC(CL_ERR_MALFORMED);
    b_pin_verify(&m);
    m.u.pin.max_len = 14;
    ENC(CL_OK);
    m.u.pin.max_len = 15;
    ENC(CL_ERR_MALFORMED);
    /* the length byte inside the data: offset nc - 1 is the last byte */
    b_pin_verify_bcd(&m);
    m.u.pin.offset = 0;
    m.u.pin.len_offset = 4;
    ENC(CL_OK);
    m.u.pin.len_offset = 5;
    ENC(CL_ERR_MALFORMED);
    /* PIN-CHANGE: a length byte just before the new-PIN region, or on it */
    b_pin_change(&m);
    m.u.pin.apdu = hb("00 24 00 80 11 24 FF FF FF FF FF FF FF 00 24 FF FF FF FF FF FF FF");
    m.u.pin.new_offset = 9;
    m.u.pin.len_offset = 8;
    ENC(CL_OK);
    m.u.pin.len_offset = 9;
    ENC(CL_ERR_MALFORMED);
    /* a template cut short is LENGTH; one that is no APDU (extended Lc 0)
     * keeps its own error */
    b_pin_verify(&m);
    m.u.pin.apdu = hb("00 20 00 80 08 24 FF FF");
    ENC(CL_ERR_LENGTH);
    m.u.pin.apdu = hb("00 20 00 80 00 00 00 24 FF FF FF FF FF FF FF");
    ENC(CL_ERR_MALFORMED);
#undef ENC
}
END_TEST

/* §6: every wire code's cl_err, and back. */
START_TEST(test_wire_table)
{
    static const int errs[] = {
        CL_OK, CL_ERR_MALFORMED, CL_ERR_UNSUPPORTED, CL_ERR_VERSION, CL_ERR_SEQUENCE,
        CL_ERR_TOO_LONG, CL_ERR_STATE, CL_ERR_CARD_REMOVED, CL_ERR_CARD_MUTE, CL_ERR_IO,
        CL_ERR_DENIED, CL_ERR_CANCELLED, CL_ERR_TIMEOUT, CL_ERR_DUPLICATE, CL_ERR_LIMIT,
        CL_ERR_CLOSED, CL_ERR_INTERNAL, CL_ERR_PROTOCOL
    };
    unsigned c;

    for (c = 0; c < CL_ARRAY_LEN(errs); c++) {
        ck_assert_int_eq(cl_relay_err_from_wire((uint8_t)c), errs[c]);
        ck_assert_uint_eq(cl_relay_err_to_wire(errs[c]), c);
    }
}
END_TEST

/* docs/protocol.md §5.14: the gate's signed bytes, "CLGA" | len | device
 * id | action (2) | nonce (16) | not before (4) | not after (4); device
 * ids of 1 and 32 bytes, none of 0 or 33, no NULL. */
START_TEST(test_gate_tbs)
{
    struct cl_relay_msg m;
    uint8_t out[CL_RELAY_GATE_TBS_MAX], id[33];

    b_actuate(&m);
    m.u.actuate.action = 0x0102;
    ck_assert_uint_eq(cl_relay_gate_tbs(&m.u.actuate, out), 4 + 1 + 7 + 2 + 16 + 8);
    cl_assert_bytes(out, 38, "43 4C 47 41 07 43 4C 2D 30 30 30 31 01 02 " GATE_NONCE
                             " 6A 0E 3C 00 6A 0E 3D 2C");
    memset(id, 'Z', sizeof(id));
    m.u.actuate.device_id.data = id;
    m.u.actuate.device_id.len = 1;
    ck_assert_uint_eq(cl_relay_gate_tbs(&m.u.actuate, out), 32);
    cl_assert_bytes(out, 8, "43 4C 47 41 01 5A 01 02");
    m.u.actuate.device_id.len = 32;
    ck_assert_uint_eq(cl_relay_gate_tbs(&m.u.actuate, out), 63);
    ck_assert_uint_eq(CL_RELAY_GATE_TBS_MAX, 63);
    cl_assert_bytes(out + 36, 27, "5A 01 02 " GATE_NONCE " 6A 0E 3C 00 6A 0E 3D 2C");
    m.u.actuate.device_id.len = 33;
    ck_assert_uint_eq(cl_relay_gate_tbs(&m.u.actuate, out), 0);
    m.u.actuate.device_id.len = 0;
    ck_assert_uint_eq(cl_relay_gate_tbs(&m.u.actuate, out), 0);
    m.u.actuate.device_id.len = 1;
    m.u.actuate.device_id.data = NULL;
    ck_assert_uint_eq(cl_relay_gate_tbs(&m.u.actuate, out), 0);
    b_actuate(&m);
    m.u.actuate.nonce = NULL;
    ck_assert_uint_eq(cl_relay_gate_tbs(&m.u.actuate, out), 0);
    b_actuate(&m);
    ck_assert_uint_eq(cl_relay_gate_tbs(NULL, out), 0);
    ck_assert_uint_eq(cl_relay_gate_tbs(&m.u.actuate, NULL), 0);
}
END_TEST

static Suite *relay_suite(void)
{
    Suite *s = suite_create("relay");
    TCase *tc = tcase_create("examples");
    TCase *tr = tcase_create("rules");
    TCase *ts = tcase_create("stream");
    int n = (int)CL_ARRAY_LEN(examples);

    tcase_add_test(tc, test_doc_complete);
    tcase_add_test(tc, test_doc_invalid);
    tcase_add_loop_test(tc, test_example_encode, 0, n);
    tcase_add_loop_test(tc, test_example_decode, 0, n);
    tcase_add_loop_test(tc, test_example_truncated, 0, n);
    tcase_add_loop_test(tc, test_example_body_cut, 0, n);
    tcase_add_loop_test(tc, test_example_version, 0, n);
    tcase_add_loop_test(tc, test_example_unknown_fields, 0, n);
    tcase_add_loop_test(tc, test_example_duplicate, 0, n);
    tcase_add_loop_test(tc, test_example_buffer, 0, n);
    suite_add_tcase(s, tc);
    tcase_add_loop_test(tr, test_bad_vectors, 0, (int)CL_ARRAY_LEN(bad_vectors));
    tcase_add_test(tr, test_script_limit);
    tcase_add_loop_test(tr, test_spec_vectors, 0, (int)CL_ARRAY_LEN(spec_vectors));
    tcase_add_test(tr, test_spec_encode);
    tcase_add_test(tr, test_walk_edges);
    tcase_add_test(tr, test_body_max);
    tcase_add_test(tr, test_rule_edges);
    tcase_add_test(tr, test_wire_table);
    tcase_add_test(tr, test_gate_tbs);
    tcase_add_test(tr, test_txn_depth);
    tcase_add_test(tr, test_apdu_shape);
    tcase_add_loop_test(tr, test_field_sizes, 0, (int)CL_ARRAY_LEN(sizes));
    tcase_add_test(tr, test_field_sizes_structured);
    tcase_add_loop_test(tr, test_table_ends, 0, (int)CL_ARRAY_LEN(table_ends));
    tcase_add_test(tr, test_name_ends);
    tcase_add_test(tr, test_large);
    tcase_add_test(tr, test_encode_errors);
    tcase_add_test(tr, test_decoded_values);
    tcase_add_test(tr, test_header_decode);
    tcase_add_test(tr, test_expect_match);
    tcase_add_test(tr, test_wire_codes);
    tcase_add_test(tr, test_txn_approve_carries_valid_txn);
#if CL_RELAY_SCRIPT_MAX >= 10
    tcase_add_test(tr, test_byte_budget);
#endif
    suite_add_tcase(s, tr);
    tcase_add_test(ts, test_stream_chunks);
    tcase_add_test(ts, test_stream_errors);
    tcase_add_test(ts, test_stream_edges);
    suite_add_tcase(s, ts);
    return s;
}

int main(void)
{
    return cl_test_run(relay_suite());
}
