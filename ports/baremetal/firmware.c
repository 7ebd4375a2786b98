/*
 * cardlink — a bare-metal device: the device engine (cardlink/device.h)
 * over a smart card UART, the relay session over the lossy link
 * (cardlink/relay_lossy.h) on a radio or modem, a keypad and a display,
 * all in one polled loop with no heap and no RTOS (docs/porting.md, "A
 * bare-metal device").
 * SPDX-License-Identifier: Apache-2.0
 *
 * The hardware is board.h's; with board_weak.c's empty hooks this links
 * into a Cortex-M image whose map says what cardlink costs a device in
 * flash and RAM (tests/scripts/firmware-size.py); tests/firmware runs the
 * same file on the host over a simulated board (a card, a noisy radio, a
 * holder). Every engine is a static object here, so RAM is the image's
 * .bss.
 */
#include <string.h>

#include "board.h"
#include "firmware.h"

static struct cl_dev dev;
static struct cl_relay_lossy link;
static uint8_t link_rx[CL_LOSSY_RX_SIZE(CL_DEV_MSG_MAX)], link_tx[CL_DEV_MSG_MAX];
static bool net_up, card_in;
/* the card line's receive wait: its start (us) and the engine's budget */
static bool waiting;
static uint32_t wait_from, wait_us;

/* The last error an engine returned: a firmware logs it; the engines
 * keep theirs (sticky) and the loop goes on from what they want next. */
static volatile int last_err;

static void check(int rc)
{
    if (rc < 0)
        last_err = rc;
}

/* ------------------------------------------------------------ ports */

/* The device takes the card line for its capabilities; it never calls
 * the functions (the loop below does the line's work). */
static int line_send(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    return board_card_send(p, n);
}

static int line_recv(void *ctx, uint8_t *p, size_t n, uint32_t *us)
{
    (void)ctx;
    (void)us;
    return board_card_recv(p, n);
}

static int line_reset(void *ctx, bool warm)
{
    (void)ctx;
    return board_card_reset(warm);
}

static int line_params(void *ctx, const struct cl_card_line_params *p)
{
    (void)ctx;
    return board_card_params(p);
}

static void line_off(void *ctx)
{
    (void)ctx;
    board_card_off();
}

static int line_present(void *ctx)
{
    (void)ctx;
    return board_card_present() ? 1 : 0;
}

/* A smart card UART: 3.57 MHz, conventions and parity in hardware. */
static const struct cl_card_line line = {
    line_send, line_recv, line_reset, line_params, line_off, line_present,
    { 3571u, 5000u, 115200u, NULL, 0, true, CL_CARD_LINE_INVERSE_HW | CL_CARD_LINE_PARITY },
};

static int hash(void *ctx, uint8_t alg, const uint8_t *data, size_t len, uint8_t *out,
                size_t size)
{
    (void)ctx;
    if (alg != CL_RELAY_DIGEST_SHA256)
        return CL_ERR_UNSUPPORTED;
    if (size < 32)
        return CL_ERR_BUFFER;
    return board_sha256(data, len, out);
}

static int store_read(void *ctx, const char *key, uint8_t *buf, size_t size)
{
    (void)ctx;
    return board_flash_read(key, buf, size);
}

static int store_write(void *ctx, const char *key, const uint8_t *data, size_t len)
{
    (void)ctx;
    return board_flash_write(key, data, len);
}

static int store_erase(void *ctx, const char *key)
{
    (void)ctx;
    return board_flash_erase(key);
}

static const struct cl_store store = { store_read, store_write, store_erase };

/* ------------------------------------------------------------ card */

/* The slot and the line; whether anything moved. */
static bool card_step(uint32_t now)
{
    uint8_t rx[32];
    bool present = board_card_present();
    enum cl_want w;
    int r;

    if (present != card_in) {
        card_in = present;
        waiting = false;
        if (present)
            check(cl_dev_card_inserted(&dev, now));
        else
            cl_dev_card_removed(&dev, now);
        return true;
    }
    w = cl_dev_card_want(&dev);
    if (w == CL_WANT_CTRL) {
        unsigned c = cl_dev_card_ctrl(&dev);
        if (c == CL_CARD_CTRL_COLD || c == CL_CARD_CTRL_WARM)
            r = board_card_reset(c == CL_CARD_CTRL_WARM);
        else if (c == CL_CARD_CTRL_PARAMS)
            r = board_card_params(cl_dev_card_params(&dev));
        else {
            board_card_off();
            r = CL_OK;
        }
        waiting = false;
        check(cl_dev_card_ctrl_done(&dev, now, r));
        return true;
    }
    if (w == CL_WANT_SEND) {
        const uint8_t *p;
        size_t n = cl_dev_card_pull(&dev, &p);
        r = n > 0 ? board_card_send(p, n) : CL_ERR_INTERNAL;
        waiting = false;
        if (r == CL_OK)
            check(cl_dev_card_sent(&dev, now, n));
        else
            check(cl_dev_card_fail(&dev, now, r));
        return true;
    }
    if (w != CL_WANT_RECV)
        return false;
    if (!waiting) {
        waiting = true;
        wait_from = board_us();
        wait_us = cl_dev_card_timer(&dev);
    }
    {
        size_t max = cl_dev_card_recv_max(&dev);
        r = board_card_recv(rx, max < sizeof(rx) ? max : sizeof(rx));
    }
    if (r == 0) {
        if (wait_us == CL_TIMER_NONE || board_us() - wait_from < wait_us)
            return false;
        waiting = false;
        check(cl_dev_card_timeout(&dev, now));
        return true;
    }
    /* the budget used so far (the engine restarts its timer per input) */
    cl_dev_card_elapsed(&dev, board_us() - wait_from);
    waiting = false;
    if (r == CL_ERR_PARITY) {
        check(cl_dev_card_parity(&dev, now, rx[0]));
    } else if (r < 0) {
        check(cl_dev_card_fail(&dev, now, r));
    } else {
        size_t off = 0;
        while (off < (size_t)r && cl_dev_card_want(&dev) == CL_WANT_RECV) {
            int used = cl_dev_card_feed(&dev, now, rx + off, (size_t)r - off);
            if (used <= 0)
                break;
            off += (size_t)used;
        }
    }
    return true;
}

/* ------------------------------------------------------------ network */

/* A new link for each modem connection: the epoch changes per boot and
 * per link (protocol §13.3). */
static unsigned link_starts;

static void link_start(void)
{
    struct cl_relay_lossy_config lc;

    memset(&lc, 0, sizeof(lc));
    board_link_config(&lc);
    lc.epoch = (uint8_t)((board_boot_count() + link_starts++) & 0x0Fu);
    cl_relay_lossy_init(&link, &lc, link_rx, sizeof(link_rx), link_tx, sizeof(link_tx));
}

/* Modem bytes in and out, whole messages between the link and the
 * session; whether anything moved. */
static bool net_step(uint32_t now)
{
    uint8_t rx[64];
    const uint8_t *p;
    size_t n, k;
    bool moved = false;
    int r;

    if (board_modem_up() != net_up || (net_up && cl_relay_lossy_want(&link) == CL_WANT_FAILED) ||
        (net_up && (cl_dev_wants(&dev) & CL_DEV_W_NET_DROP))) {
        if (net_up) {
            net_up = false;
            cl_dev_net_down(&dev, now);
        } else if (board_modem_up()) {
            link_start();
            net_up = cl_dev_net_up(&dev, now) == CL_OK;
        }
        return true;
    }
    if (!net_up)
        return false;
    /* the link's received frames -> whole messages -> the session */
    while ((n = board_modem_read(rx, sizeof(rx))) > 0) {
        size_t off = 0;
        moved = true;
        /* feed stops after each frame that delivers a message */
        while (off < n && (r = cl_relay_lossy_feed(&link, now, rx + off, n - off)) >= 0) {
            size_t len, used = (size_t)r;
            off += used;
            r = cl_relay_lossy_take(&link, &p, &len);
            if (r == CL_OK)
                check(cl_dev_net_feed(&dev, now, p, len));
            else if (r == CL_ERR_TOO_LONG)
                check(cl_dev_net_too_large(&dev, now, p, len));
            else if (used == 0)
                break;
        }
    }
    /* the session's next message -> the link (one outstanding: window 1) */
    if (cl_relay_lossy_can_send(&link) && (n = cl_dev_net_pull(&dev, now, &p)) > 0 &&
        cl_relay_lossy_send(&link, now, p, n) == CL_OK) {
        check(cl_dev_net_sent(&dev, n));
        moved = true;
    }
    /* frame bytes -> the modem, as much as it takes */
    while ((n = cl_relay_lossy_lend(&link, now, &p)) > 0 && (k = board_modem_write(p, n)) > 0) {
        check(cl_relay_lossy_sent(&link, k));
        moved = true;
        if (k < n)
            break;
    }
    return moved;
}

/* ------------------------------------------------------------ holder */

static bool holder_step(uint32_t now)
{
    struct cl_ui_screen s;
    uint8_t pin[CL_UI_ENTRY_MAX];
    size_t n;
    bool moved = false;
    int key;

    while (cl_dev_ui_take(&dev, &s) == 1) {
        board_show(&s);
        moved = true;
    }
    if ((n = board_pin(pin, sizeof(pin))) > 0) {
        check(cl_dev_ui_pin(&dev, now, pin, n));   /* wipes pin[0..n) */
        moved = true;
    }
    if ((key = board_key()) >= 0) {
        check(cl_dev_ui_key(&dev, now, (unsigned)key));
        moved = true;
    }
    return moved;
}

/* ------------------------------------------------------------ the loop */

static bool clock_step(uint32_t now)
{
    bool moved = false;

    /* Not progress by itself: the session's timer stays at 0 while what it
     * waits for (a keep-alive or an acknowledgement to pull) is held back
     * by the link's one outstanding frame, and counting it would keep the
     * loop from ever sleeping. What timeout() changed, the next pass takes. */
    if (cl_dev_timer(&dev, now) == 0)
        check(cl_dev_timeout(&dev, now));
    if (net_up && cl_relay_lossy_timer(&link, now) == 0) {
        check(cl_relay_lossy_timeout(&link, now));
        moved = true;
    }
    return moved;
}

/* see firmware.h */
int cl_fw_setup(void)
{
    struct cl_dev_config cfg;
    struct cl_relay_lossy_config lc;
    uint32_t patience;

    memset(&cfg, 0, sizeof(cfg));
    cfg.relay.device_id = board_device_id(&cfg.relay.device_id_len);
    cfg.relay.caps.interfaces = CL_RELAY_IF_T0 | CL_RELAY_IF_T1;
    cfg.relay.caps.input = CL_RELAY_IN_KEYPAD | CL_RELAY_IN_CONFIRM;
    cfg.relay.caps.features = CL_RELAY_FEAT_SCRIPT | CL_RELAY_FEAT_DISPLAY |
                              CL_RELAY_FEAT_PIN_VERIFY | CL_RELAY_FEAT_TXN |
                              CL_RELAY_FEAT_CARD_RESET | CL_RELAY_FEAT_RESUME;
    cfg.relay.caps.max_msg = CL_DEV_MSG_MAX;
    /* A capped link keeps trying at a steady pace: the session waits for
     * HELLO-ACK as long as the link tries HELLO one way and the answer the
     * other, so that only the link decides it is dead. Uncapped, the waits
     * grow to a minute and a new link after the session's 10 s is sooner
     * (docs/porting.md, "A bare-metal device", has the measurements). */
    memset(&lc, 0, sizeof(lc));
    board_link_config(&lc);
    patience = cl_relay_lossy_patience(&lc);
    if (lc.rto_max_ms != 0)
        cfg.relay.hello_timeout_ms = patience < 0x20000000u ? 2u * patience : 0x40000000u;
    cfg.policy.flags = CL_POLICY_F_CARDLINK;
    cl_card_config_default(&cfg.card);
    cfg.line = &line;
    cfg.hash.digest = hash;
    cfg.store = &store;
    net_up = card_in = waiting = false;
    cl_dev_init(&dev);
    return cl_dev_setup(&dev, &cfg);
}

/* see firmware.h */
bool cl_fw_poll(void)
{
    uint32_t now = board_ms();
    bool moved = card_step(now);

    moved |= net_step(now);
    moved |= holder_step(now);
    moved |= clock_step(now);
    return moved;
}

/* see firmware.h */
const struct cl_dev *cl_fw_device(void)
{
    return &dev;
}

/* see firmware.h */
const struct cl_relay_lossy *cl_fw_link(void)
{
    return &link;
}

/* see firmware.h */
unsigned cl_fw_link_starts(void)
{
    return link_starts;
}

/* see firmware.h */
int cl_fw_last_error(void)
{
    return last_err;
}
