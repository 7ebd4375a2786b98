/*
 * cardlink — libFuzzer target: the bare-metal device's loop
 * (ports/baremetal/firmware.c) over a board whose every input comes from
 * the fuzzer: the card slot and the card's bytes (and parity errors), the
 * radio going up and down, relay messages sent by a server-side lossy link
 * (so they arrive framed, numbered and acknowledged as a real server's
 * would), raw radio bytes, how much the radio takes per write, keys, PIN
 * digits, time.
 *
 * Input: records [op, len, body[len]]:
 *   0 CARD   toggle the card's presence
 *   1 CARDRX the card sends body (returned by board_card_recv in pieces)
 *   2 PARITY the next card byte body[0] comes with a parity error
 *   3 RADIO  toggle the radio
 *   4 MSG    the server link sends body as a relay message (when it can)
 *   5 RAW    body arrives on the radio as raw bytes
 *   6 WRITE  the radio takes at most body[0] bytes per write (0: all)
 *   7 KEY    the holder presses body[0] (0..9, CL_UI_KEY_*)
 *   8 PIN    the holder types body[0..len) (values % 10) on the keypad
 *   9 TIME   body[0] * 64 ms pass (the firmware polls on each millisecond
 *            it sleeps)
 * After each record the firmware polls until a pass moves nothing (at
 * most 64 passes).
 *
 * Checks: what the firmware writes on the radio is always whole lossy
 * frames (the server link counts no bad CRC, whatever the radio took per
 * write) carrying messages that decode; the card line is asked for at
 * least one byte and sent at most one block; ASan and UBSan over the
 * glue between the engines.
 */
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "cardlink/error.h"
#include "cardlink/relay_msg.h"
#include "firmware.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
    if (!ok)
        abort();
}

static uint32_t ms, us;
static bool present, radio;
static const uint8_t *crx;          /* the card's pending bytes */
static size_t crx_len;
static int parity = -1;
static const uint8_t *rrx;          /* raw radio bytes pending */
static size_t rrx_len;
static size_t wmax;
static int key = -1;
static uint8_t pin[16];
static size_t pin_len;

static struct cl_relay_lossy slink;
static uint8_t slrx[CL_LOSSY_RX_SIZE(CL_DEV_MSG_MAX)], sltx[CL_DEV_MSG_MAX];

uint32_t board_ms(void) { return ms; }
uint32_t board_us(void) { return us; }

void board_idle(void)
{
    ms++;
    us += 1000u;
}

bool board_card_present(void) { return present; }
int board_card_reset(bool warm) { (void)warm; return CL_OK; }
int board_card_params(const struct cl_card_line_params *p) { check(p != NULL); return CL_OK; }
void board_card_off(void) { }

int board_card_send(const uint8_t *p, size_t n)
{
    check(p != NULL && n >= 1 && n <= 3 + 254 + 2 + 261);
    return CL_OK;
}

int board_card_recv(uint8_t *p, size_t n)
{
    size_t k;

    check(n >= 1);
    if (parity >= 0) {
        p[0] = (uint8_t)parity;
        parity = -1;
        return CL_ERR_PARITY;
    }
    k = crx_len < n ? crx_len : n;
    if (k == 0)
        return 0;
    memcpy(p, crx, k);
    crx += k;
    crx_len -= k;
    return (int)k;
}

bool board_modem_up(void) { return radio; }

size_t board_modem_read(uint8_t *p, size_t n)
{
    const uint8_t *q;
    size_t k;

    if (rrx_len > 0) {
        k = rrx_len < n ? rrx_len : n;
        memcpy(p, rrx, k);
        rrx += k;
        rrx_len -= k;
        return k;
    }
    k = cl_relay_lossy_lend(&slink, ms, &q);
    if (k == 0)
        return 0;
    if (k > n)
        k = n;
    memcpy(p, q, k);
    check(cl_relay_lossy_sent(&slink, k) == CL_OK);
    return k;
}

/* the firmware's link starts seen, and the cut frames they allow the
 * server's current link (reset with it) */
static unsigned starts_seen, cut_budget;

size_t board_modem_write(const uint8_t *p, size_t n)
{
    size_t k = wmax != 0 && wmax < n ? wmax : n, off = 0, used;
    const struct cl_relay_lossy_stats *st = cl_relay_lossy_stats(&slink);
    int r;

    check(n >= 1);
    while (off < k && (r = cl_relay_lossy_feed(&slink, ms, p + off, k - off)) >= 0) {
        const uint8_t *m;
        size_t len;
        used = (size_t)r;
        off += used;
        if (cl_relay_lossy_take(&slink, &m, &len) == CL_OK) {
            struct cl_relay_msg msg;
            check(cl_relay_decode(m, len, &msg) == CL_OK);
        } else if (used == 0) {
            break;
        }
    }
    /* whole frames, whatever the radio took per write; only a link restart
     * (a new epoch) may cut the frame being written */
    if (cl_fw_link_starts() != starts_seen) {
        cut_budget += cl_fw_link_starts() - starts_seen;
        starts_seen = cl_fw_link_starts();
    }
    check(st->bad_crc + st->bad_frame <= cut_budget);
    return k;
}

void board_show(const struct cl_ui_screen *s) { check(s != NULL); }

int board_key(void)
{
    int k = key;

    key = -1;
    return k;
}

size_t board_pin(uint8_t *d, size_t max)
{
    size_t n = pin_len < max ? pin_len : max;

    memcpy(d, pin, n);
    pin_len = 0;
    return n;
}

int board_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    (void)data;
    (void)len;
    memset(out, 0x5A, 32);
    return 32;
}

int board_flash_read(const char *key_, uint8_t *buf, size_t size)
{
    (void)key_;
    (void)buf;
    (void)size;
    return CL_ERR_NOT_FOUND;
}

int board_flash_write(const char *key_, const uint8_t *d, size_t len)
{
    check(key_ != NULL && (d != NULL || len == 0));
    return CL_OK;
}

int board_flash_erase(const char *key_) { (void)key_; return CL_OK; }

const uint8_t *board_device_id(size_t *len)
{
    static const uint8_t id[] = {'f', 'u', 'z', 'z'};
    *len = sizeof(id);
    return id;
}

uint32_t board_boot_count(void) { return 1; }

/* a radio profile (capped RTO, more tries), so those paths run too */
void board_link_config(struct cl_relay_lossy_config *lc)
{
    lc->rto_ms = 1500;
    lc->rto_max_ms = 4000;
    lc->max_retries = 8;
}

/* The loop comes to rest: with no new input and the clock standing, a
 * pass that does nothing comes within a bound (a frame written a byte a
 * pass takes a few thousand); a loop that never rests never sleeps. */
static void settle(void)
{
    unsigned i;

    for (i = 0; i < 16384; i++)
        if (!cl_fw_poll())
            break;
    check(i < 16384);
    board_idle();
    if (cl_relay_lossy_want(&slink) == CL_WANT_FAILED ||
        (cl_relay_lossy_timer(&slink, ms) == 0 && cl_relay_lossy_timeout(&slink, ms) != CL_OK)) {
        struct cl_relay_lossy_config lc = { 0, 0, 9, 0 };
        cl_relay_lossy_init(&slink, &lc, slrx, sizeof(slrx), sltx, sizeof(sltx));
        cut_budget = 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cl_relay_lossy_config lc = { 0, 0, 5, 0 };
    size_t pos = 0, i;
    unsigned t;

    ms = 1000;
    us = 1000000;
    present = radio = false;
    crx_len = rrx_len = wmax = pin_len = 0;
    parity = key = -1;
    cl_relay_lossy_init(&slink, &lc, slrx, sizeof(slrx), sltx, sizeof(sltx));
    starts_seen = cl_fw_link_starts();
    cut_budget = 0;
    if (cl_fw_setup() != CL_OK)
        abort();
    while (pos + 2 <= size) {
        uint8_t op = data[pos], n = data[pos + 1];
        const uint8_t *b = data + pos + 2;
        if (n > size - pos - 2)
            n = (uint8_t)(size - pos - 2);
        pos += 2u + n;
        switch (op % 10) {
        case 0:
            present = !present;
            break;
        case 1:
            crx = b;
            crx_len = n;
            break;
        case 2:
            parity = n > 0 ? b[0] : 0;
            break;
        case 3:
            radio = !radio;
            break;
        case 4:
            if (n > 0 && cl_relay_lossy_can_send(&slink))
                check(cl_relay_lossy_send(&slink, ms, b, n) == CL_OK);
            break;
        case 5:
            rrx = b;
            rrx_len = n;
            break;
        case 6:
            wmax = n > 0 ? b[0] : 0;
            break;
        case 7:
            key = n > 0 ? b[0] : 0;
            break;
        case 8:
            pin_len = n < sizeof(pin) ? n : sizeof(pin);
            for (i = 0; i < pin_len; i++)
                pin[i] = (uint8_t)(b[i] % 10u);
            break;
        default:
            for (t = 0; t < (n > 0 ? b[0] : 1u) * 64u; t++)
                if (!cl_fw_poll())
                    board_idle();
            break;
        }
        settle();
    }
    crx_len = rrx_len = 0;   /* the input's bytes end with it */
    return 0;
}
