/*
 * cardlink — the shared rig of the device suites (see device_rig.h).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/atr.h"
#include "cardlink/error.h"
#include "device_rig.h"
#include "test_util.h"

static int l_send(void *c, const uint8_t *b, size_t n) { (void)c; (void)b; (void)n; return CL_OK; }
static int l_recv(void *c, uint8_t *b, size_t n, uint32_t *t) { (void)c; (void)b; (void)n; (void)t; return 0; }
static int l_reset(void *c, bool w) { (void)c; (void)w; return CL_OK; }
static int l_params(void *c, const struct cl_card_line_params *p) { (void)c; (void)p; return CL_OK; }
static void l_off(void *c) { (void)c; }

const struct cl_card_line rig_idle_line = {
    l_send, l_recv, l_reset, l_params, l_off, NULL,
    {4000u, 4000u, 0u, NULL, 0, false, 0}};

void rig_dev_config(struct cl_dev_config *cfg, const uint8_t *id, size_t id_len)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->relay.device_id = id;
    cfg->relay.device_id_len = id_len;
    cfg->relay.caps.features = CL_RELAY_FEAT_RESUME | CL_RELAY_FEAT_TXN | CL_RELAY_FEAT_SCRIPT;
    cfg->relay.ack_delay_ms = 1;
    cfg->policy.flags = CL_POLICY_F_CARDLINK;
    cl_card_config_default(&cfg->card);
    cfg->line = &rig_idle_line;
}

void rig_server_open(struct cl_relay_session *srv, struct cl_relay_session_config *scfg,
                     uint8_t *rx, size_t rx_size, uint8_t *buf, size_t buf_size, uint32_t now,
                     const uint8_t *token, size_t token_len)
{
    memset(scfg, 0, sizeof(*scfg));
    scfg->ack_delay_ms = 1;
    cl_relay_session_init(srv);
    ck_assert_int_eq(cl_relay_session_setup(srv, CL_RELAY_SERVER, scfg, rx, rx_size, buf,
                                            buf_size), CL_OK);
    ck_assert_int_eq(cl_relay_server_accept(srv, now, token, token_len), CL_OK);
}

void rig_pin_verify_msg(struct cl_relay_msg *m, uint8_t tmpl[13])
{
    ck_assert_int_eq(cl_test_hex("00 20 00 80 08 24 FF FF FF FF FF FF FF", tmpl, 13), 13);
    cl_relay_msg_init(m, CL_RELAY_PIN_VERIFY);
    m->u.pin.apdu.data = tmpl;
    m->u.pin.apdu.len = 13;
    m->u.pin.encoding = CL_RELAY_PIN_ISO9564_2;
    m->u.pin.min_len = 4;
    m->u.pin.max_len = 12;
    m->u.pin.offset = 0;
}

void rig_keep_msg(const struct cl_relay_msg *m, uint8_t *buf, size_t size,
                  struct cl_relay_msg *out)
{
    size_t len = 0;

    ck_assert_int_eq(cl_relay_encode(m, buf, size, &len), CL_OK);
    ck_assert_int_eq(cl_relay_decode(buf, len, out), CL_OK);
}

void rig_poll_answer(struct cl_relay_session *srv, struct cl_relay_event *ev, bool *answered,
                     uint8_t *buf, size_t size, struct cl_relay_msg *ans)
{
    while (!*answered && cl_relay_session_poll(srv, ev)) {
        if (ev->kind == CL_RELAY_EV_ANSWER && ev->msg != NULL) {
            rig_keep_msg(ev->msg, buf, size, ans);
            *answered = true;
        }
    }
}

/* The device's line bytes to the card, coded as the line wants them. */
static void card_in(struct cl_dev *dev, struct cl_sim *sim, uint32_t now)
{
    const uint8_t *p;
    size_t n = cl_dev_card_pull(dev, &p);

    ck_assert_uint_gt(n, 0);
    if (cl_dev_card_inverse(dev)) {
        uint8_t tmp[512];
        size_t i;

        ck_assert_uint_le(n, sizeof(tmp));
        for (i = 0; i < n; i++)
            tmp[i] = cl_atr_inverse_byte(p[i]);
        ck_assert_int_eq(cl_sim_feed(sim, tmp, n), (int)n);
    } else {
        ck_assert_int_eq(cl_sim_feed(sim, p, n), (int)n);
    }
    ck_assert_int_eq(cl_dev_card_sent(dev, now, n), CL_OK);
}

/* The card's line bytes to the device, decoded as the line wants them. */
static void card_out(struct cl_dev *dev, struct cl_sim *sim, uint32_t now)
{
    const uint8_t *p;
    size_t max = cl_dev_card_recv_max(dev);
    size_t n = cl_sim_pull(sim, &p);
    int used;

    if (n > max)
        n = max;
    if (cl_dev_card_inverse(dev)) {
        uint8_t tmp[512];

        if (n > sizeof(tmp))
            n = sizeof(tmp);
        memcpy(tmp, p, n);
        cl_atr_decode_inverse(tmp, n);
        used = cl_dev_card_feed(dev, now, tmp, n);
    } else {
        used = cl_dev_card_feed(dev, now, p, n);
    }
    ck_assert_int_ge(used, 0);
    ck_assert_int_eq(cl_sim_sent(sim, (size_t)used), CL_OK);
}

bool rig_card_step(struct cl_dev *dev, struct cl_sim *sim, uint32_t now)
{
    enum cl_want w = cl_dev_card_want(dev);

    if (w == CL_WANT_CTRL) {
        unsigned c = cl_dev_card_ctrl(dev);
        if (c == CL_CARD_CTRL_COLD || c == CL_CARD_CTRL_WARM)
            ck_assert_int_eq(cl_sim_reset(sim, c == CL_CARD_CTRL_WARM), CL_OK);
        else if (c == CL_CARD_CTRL_PARAMS) {
            const struct cl_card_line_params *lp = cl_dev_card_params(dev);
            int cr = cl_sim_clock(sim, lp->f, lp->d);
            (void)cr;
        } else if (c == CL_CARD_CTRL_OFF)
            cl_sim_power_off(sim);
        ck_assert_int_eq(cl_dev_card_ctrl_done(dev, now, CL_OK), CL_OK);
    } else if (w == CL_WANT_SEND) {
        card_in(dev, sim, now);
    } else if (w == CL_WANT_RECV) {
        if (cl_sim_want(sim) == CL_SIM_SEND)
            card_out(dev, sim, now);
        else if (cl_sim_timer(sim) != CL_TIMER_NONE)
            ck_assert_int_eq(cl_sim_timeout(sim), CL_OK);
        else
            ck_assert_int_eq(cl_dev_card_timeout(dev, now), CL_OK);
    } else {
        return false;
    }
    return true;
}

bool rig_dev_to_server(struct cl_dev *dev, struct cl_relay_session *srv, uint32_t now,
                       bool hold_while_idle,
                       void (*tap)(const uint8_t *p, size_t offered, size_t used))
{
    const uint8_t *p;
    size_t n = cl_dev_net_pull(dev, now, &p);
    int used;

    if (n == 0 || (hold_while_idle && cl_relay_session_want(srv) == CL_WANT_IDLE))
        return false;
    used = cl_relay_session_feed(srv, now, p, n);
    ck_assert_int_ge(used, 0);
    if (tap != NULL)
        tap(p, n, (size_t)used);
    ck_assert_int_eq(cl_dev_net_sent(dev, (size_t)used), CL_OK);
    return true;
}

bool rig_server_to_dev(struct cl_relay_session *srv, struct cl_dev *dev, uint32_t now)
{
    const uint8_t *p;
    size_t n = cl_relay_session_pull(srv, now, &p);
    int used;

    if (n == 0)
        return false;
    used = cl_dev_net_feed(dev, now, p, n);
    ck_assert_int_ge(used, 0);
    ck_assert_int_eq(cl_relay_session_sent(srv, (size_t)used), CL_OK);
    return true;
}

void rig_pump(bool (*round)(void), unsigned max_rounds)
{
    unsigned guard;

    for (guard = 0; guard < max_rounds; guard++)
        if (!round())
            return;
    ck_abort_msg("no progress");
}
