/*
 * cardlink — the card simulator's line session: ATR, PPS, T=0/T=1 card role.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/sim.h"
#include "cardlink/edc.h"
#include "cardlink/error.h"
#include "cardlink/pps.h"
#include "cardlink/rate.h"
#include "cardlink/wipe.h"

#include <string.h>

/* The simulator plays the card: reader-only engines cannot serve it. */
#if !CL_T0_CARD || !CL_T1_CARD
#error "lib/sim needs the card roles: build it with CL_T0_CARD and CL_T1_CARD at 1 (reader firmware leaves lib/sim out)"
#endif

enum phase {
    PH_OFF = 0,
    PH_ATR,         /* sending the ATR from out[] */
    PH_FIRST,       /* ATR sent: PPSS or the first protocol byte */
    PH_PPS,         /* collecting a PPS request */
    PH_PPS_ANSWER,  /* sending the PPS response from out[] */
    PH_ENGINE,      /* T=0 or T=1 card role */
    PH_SBLOCK,      /* sending an unexpected S-block from out[] */
    PH_MUTE
};

static const uint8_t sw_6f00[2] = {0x6F, 0x00};

/* see cardlink/sim.h */
void cl_sim_config_default(struct cl_sim_config *cfg, bool t1)
{
    static const char hist[] = "cardlink";
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->atr.opts = CL_ATR_B_TA1 | (t1 ? (CL_ATR_B_T1 | CL_ATR_B_IFSC |
                                          CL_ATR_B_T1_TB)
                                       : CL_ATR_B_T0);
    cfg->atr.ta1 = 0x96;
    cfg->atr.ifsc = 254;
    cfg->atr.bwi = 4;
    cfg->atr.cwi = 5;
    cfg->atr.hist_len = (uint8_t)(sizeof(hist) - 1);
    memcpy(cfg->atr.hist, hist, sizeof(hist) - 1);
    cfg->pps = CL_SIM_PPS_ACCEPT;
    cfg->wtx = 1;
}

/* see cardlink/sim.h */
void cl_sim_free(struct cl_sim *sim)
{
    if (sim != NULL)
        cl_wipe(sim, sizeof(*sim));
}

/* see cardlink/sim.h */
int cl_sim_setup(struct cl_sim *sim, const struct cl_sim_config *cfg,
                 const struct cl_cardapp *app)
{
    struct cl_atr atr;
    size_t len = 0;
    unsigned i;

    if (sim == NULL)
        return CL_ERR_ARG;
    memset(sim, 0, sizeof(*sim));
    if (cfg == NULL || app == NULL || app->process == NULL ||
        cfg->pps > CL_SIM_PPS_MUTE || cfg->wtx == 0)
        return CL_ERR_ARG;
    if (cl_atr_build(&cfg->atr, sim->atr, sizeof(sim->atr), &len) != CL_OK ||
        cl_atr_parse(&atr, sim->atr, len) != CL_OK) {
        memset(sim, 0, sizeof(*sim));
        return CL_ERR_ARG;
    }
    for (i = 0; i < atr.nproto; i++)
        if (atr.proto[i] <= 1)
            sim->offered |= (uint8_t)(1u << atr.proto[i]);
    if (sim->offered == 0 || atr.proto[0] > 1 ||
        ((sim->offered & 2u) && (atr.p.flags & CL_ATR_F_IFSC_INVALID)) ||
        ((sim->offered & 2u) && (atr.p.flags & CL_ATR_F_BWI_RESERVED)) ||
        (atr.p.flags & CL_ATR_F_RATE_RESERVED) ||
        ((atr.p.flags & CL_ATR_F_SPECIFIC) &&
         (atr.p.specific_t > 1 ||
          !(sim->offered & (1u << atr.p.specific_t))))) {
        memset(sim, 0, sizeof(*sim));
        return CL_ERR_ARG;
    }
    sim->cfg = *cfg;
    sim->app = *app;
    sim->atr_len = (uint8_t)len;
    sim->proto = atr.proto[0];
    sim->inverse = (atr.p.flags & CL_ATR_F_INVERSE) != 0;
    sim->specific = (atr.p.flags & CL_ATR_F_SPECIFIC) != 0;
    if (sim->specific) {
        sim->proto = atr.p.specific_t;
        sim->implicit = (atr.p.flags & CL_ATR_F_IMPLICIT) != 0;
    }
    sim->first_proto = sim->proto;
    sim->ta1 = atr.p.ta1;
    sim->ifsc = atr.p.ifsc;
    sim->bwi = atr.p.bwi;
    sim->cwi = atr.p.cwi;
    sim->edc = (atr.p.flags & CL_ATR_F_CRC) ? CL_T1_EDC_CRC : CL_T1_EDC_LRC;
    sim->wi = atr.p.wi;
    sim->has_tck = (atr.p.flags & CL_ATR_F_TCK) != 0;
    sim->f = 372;
    sim->d = 1;
    sim->phase = PH_OFF;
    sim->want = CL_WANT_CLOSED;
    sim->ready = true;
    return CL_OK;
}

/* ------------------------------------------------------ engines */

static int engine_start(struct cl_sim *sim)
{
    int rc;
    sim->phase = PH_ENGINE;
    if (sim->proto == 1) {
        struct cl_t1_config c;
        cl_t1_config_default(&c, CL_T1_ROLE_CARD);
        c.edc = sim->edc;
        c.ifsc = sim->ifsc;
        c.bwi = sim->bwi;
        c.cwi = sim->cwi;
        c.f = sim->f;
        c.d = sim->d;
        rc = cl_t1_setup(&sim->e.t1, &c, NULL);
        if (rc == CL_OK)
            rc = cl_t1_card_listen(&sim->e.t1, sim->cmd, sizeof(sim->cmd));
    } else {
        struct cl_t0_config c;
        cl_t0_config_default(&c, CL_T0_ROLE_CARD);
        c.wi = sim->wi;
        c.d = sim->d;
        c.single_byte_ack = sim->cfg.t0_single_byte_ack;
        rc = cl_t0_setup(&sim->e.t0, &c);
        if (rc == CL_OK)
            rc = cl_t0_card_listen(&sim->e.t0, sim->cmd, sizeof(sim->cmd));
    }
    if (rc != CL_OK)
        sim->phase = PH_MUTE;
    return rc;
}

/* The application is done with the command of len bytes and the engine
 * has its response: wipe the command's data (it may have carried a PIN
 * block). The header stays: the T=0 engine still reads P3 (6Cxx, 61xx). */
static void wipe_cmd(struct cl_sim *sim, size_t len)
{
    if (len > sizeof(sim->cmd))
        len = sizeof(sim->cmd);
    if (len > 5)
        cl_wipe(sim->cmd + 5, len - 5);
}

/* Ask the application; CL_OK with resp_len set, or CL_CARDAPP_BUSY. */
static int app_call(struct cl_sim *sim, size_t cmd_len)
{
    int rc;
    sim->resp_len = 0;
    rc = sim->app.process(sim->app.ctx, sim->cmd, cmd_len, sim->resp,
                          sizeof(sim->resp), &sim->resp_len);
    if (rc == CL_CARDAPP_BUSY) {
        sim->stats.busy++;
        return CL_CARDAPP_BUSY;     /* the same command again: kept */
    }
    if (rc == CL_OK && sim->resp_len >= 2 && sim->resp_len <= sizeof(sim->resp))
        return CL_OK;
    sim->busy_err = rc != CL_OK ? rc : CL_ERR_INTERNAL;
    memcpy(sim->resp, sw_6f00, 2);
    sim->resp_len = 2;
    return CL_OK;
}

/* Drive the engine until it wants the line (SEND or RECV) or fails. */
static void advance_t1(struct cl_sim *sim)
{
    for (;;) {
        size_t alen;
        int rc;
        switch (cl_t1_want(&sim->e.t1)) {
        case CL_WANT_IDLE:
            if (cl_t1_card_listen(&sim->e.t1, sim->cmd, sizeof(sim->cmd)) !=
                CL_OK) {
                sim->phase = PH_MUTE;
                return;
            }
            break;
        case CL_WANT_DONE:
            rc = cl_t1_result(&sim->e.t1);
            if (rc < 0) {
                sim->phase = PH_MUTE;
                return;
            }
            if (!sim->repeat)
                sim->stats.apdus++;
            alen = (size_t)rc;
            if (app_call(sim, alen) == CL_CARDAPP_BUSY) {
                sim->repeat = true;
                rc = cl_t1_card_request_wtx(&sim->e.t1, sim->cfg.wtx);
            } else {
                sim->repeat = false;
                rc = cl_t1_card_respond(&sim->e.t1, sim->resp, sim->resp_len);
                wipe_cmd(sim, alen);
                if (rc == CL_OK && sim->cfg.sblock_after != 0 &&
                    !sim->sblock_done &&
                    sim->stats.apdus >= sim->cfg.sblock_after)
                    sim->sblock_arm = true;
            }
            if (rc != CL_OK) {
                sim->phase = PH_MUTE;
                return;
            }
            break;
        case CL_WANT_SEND:
            if (sim->sblock_arm) {
                /* An S(WTX response) nobody asked for, in place of the
                 * block the engine believes it sends. */
                const uint8_t *p;
                sim->sblock_arm = false;
                sim->sblock_done = true;
                sim->stats.sblocks++;
                /* the whole block (an I-block comes in pieces) */
                while (cl_t1_want(&sim->e.t1) == CL_WANT_SEND) {
                    size_t n = cl_t1_pull(&sim->e.t1, &p);
                    if (cl_t1_sent(&sim->e.t1, n) != CL_OK) {
                        sim->phase = PH_MUTE;
                        return;
                    }
                }
                sim->out[0] = 0x00;
                sim->out[1] = 0xE3;
                sim->out[2] = 0x01;
                sim->out[3] = 0x01;
                if (sim->edc == CL_T1_EDC_CRC) {
                    uint16_t c = cl_crc16(sim->out, 4);
                    sim->out[4] = (uint8_t)(c >> 8);
                    sim->out[5] = (uint8_t)c;
                    sim->out_len = 6;
                } else {
                    sim->out[4] = cl_lrc(sim->out, 4);
                    sim->out_len = 5;
                }
                sim->out_off = 0;
                sim->phase = PH_SBLOCK;
            }
            return;
        case CL_WANT_RECV:
            return;
        default:
            sim->phase = PH_MUTE;
            return;
        }
    }
}

static void advance_t0(struct cl_sim *sim)
{
    for (;;) {
        int rc;
        size_t len;
        switch (cl_t0_want(&sim->e.t0)) {
        case CL_WANT_IDLE:
            if (cl_t0_card_listen(&sim->e.t0, sim->cmd, sizeof(sim->cmd)) !=
                CL_OK) {
                sim->phase = PH_MUTE;
                return;
            }
            break;
        case CL_WANT_CTRL:
            if (!sim->repeat) {
                bool data = sim->app.t0_has_data != NULL
                                ? sim->app.t0_has_data(sim->app.ctx, sim->cmd)
                                : cl_sim_t0_has_data(sim->cmd);
                if (data) {
                    rc = cl_t0_card_receive(&sim->e.t0);
                    if (rc == CL_ERR_BUFFER) {
                        sim->resp[0] = 0x67;
                        sim->resp[1] = 0x00;
                        rc = cl_t0_card_respond(&sim->e.t0, sim->resp, 2);
                    }
                    if (rc != CL_OK) {
                        sim->phase = PH_MUTE;
                        return;
                    }
                    break;
                }
            }
            len = 5;
            goto call;
        case CL_WANT_DONE:
            rc = cl_t0_result(&sim->e.t0);
            if (rc < 0) {
                sim->phase = PH_MUTE;
                return;
            }
            len = (size_t)rc;
        call:
            if (!sim->repeat)
                sim->stats.apdus++;
            if (app_call(sim, len) == CL_CARDAPP_BUSY) {
                sim->repeat = true;
                rc = cl_t0_card_null(&sim->e.t0);
            } else {
                sim->repeat = false;
                rc = cl_t0_card_respond(&sim->e.t0, sim->resp, sim->resp_len);
                if (rc == CL_ERR_ARG) {
                    /* an SW1 T=0 cannot carry */
                    memcpy(sim->resp, sw_6f00, 2);
                    sim->resp_len = 2;
                    rc = cl_t0_card_respond(&sim->e.t0, sim->resp, 2);
                }
                wipe_cmd(sim, len);
            }
            if (rc != CL_OK) {
                sim->phase = PH_MUTE;
                return;
            }
            break;
        case CL_WANT_SEND:
        case CL_WANT_RECV:
            return;
        default:
            sim->phase = PH_MUTE;
            return;
        }
    }
}

static void update_want(struct cl_sim *sim)
{
    if (sim->phase == PH_ENGINE) {
        if (sim->proto == 1)
            advance_t1(sim);
        else
            advance_t0(sim);
    }
    switch (sim->phase) {
    case PH_OFF:
        sim->want = CL_WANT_CLOSED;
        break;
    case PH_ATR:
    case PH_PPS_ANSWER:
    case PH_SBLOCK:
        sim->want = CL_WANT_SEND;
        break;
    case PH_FIRST:
    case PH_PPS:
        sim->want = CL_WANT_RECV;
        break;
    case PH_ENGINE:
        if (sim->proto == 1)
            sim->want = cl_t1_want(&sim->e.t1) == CL_WANT_SEND ? CL_WANT_SEND
                                                             : CL_WANT_RECV;
        else
            sim->want = cl_t0_want(&sim->e.t0) == CL_WANT_SEND ? CL_WANT_SEND
                                                             : CL_WANT_RECV;
        break;
    default:
        sim->phase = PH_MUTE;
        sim->want = CL_WANT_FAILED;
        if (sim->err == CL_OK)
            sim->err = CL_ERR_PROTOCOL;
        break;
    }
}

/* ------------------------------------------------------ line events */

/* see cardlink/sim.h */
int cl_sim_reset(struct cl_sim *sim, bool warm)
{
    (void)warm;
    if (sim == NULL)
        return CL_ERR_ARG;
    if (!sim->ready)
        return CL_ERR_STATE;
    if (sim->app.reset != NULL)
        sim->app.reset(sim->app.ctx);
    sim->stats.resets++;
    sim->err = CL_OK;
    memset(&sim->e, 0, sizeof(sim->e));
    sim->f = 372;
    sim->d = 1;
    sim->proto = sim->first_proto;
    sim->repeat = false;
    sim->sblock_arm = false;
    sim->parity_next = false;
    sim->pps_len = 0;
    memcpy(sim->out, sim->atr, sim->atr_len);
    sim->out_len = sim->atr_len;
    if (sim->cfg.bad_tck && sim->has_tck)
        sim->out[sim->out_len - 1] ^= 0x01;
    sim->out_off = 0;
    sim->chunk = 0;
    sim->phase = PH_ATR;
    update_want(sim);
    return CL_OK;
}

/* see cardlink/sim.h */
void cl_sim_power_off(struct cl_sim *sim)
{
    if (sim == NULL)
        return;
    memset(&sim->e, 0, sizeof(sim->e));
    sim->phase = PH_OFF;
    sim->want = CL_WANT_CLOSED;
}

/* see cardlink/sim.h */
enum cl_want cl_sim_want(const struct cl_sim *sim)
{
    return sim == NULL ? CL_WANT_FAILED : (enum cl_want)sim->want;
}

/* see cardlink/sim.h */
int cl_sim_error(const struct cl_sim *sim)
{
    return sim == NULL ? CL_ERR_ARG : sim->err;
}

/* see cardlink/sim.h */
size_t cl_sim_pull(struct cl_sim *sim, const uint8_t **out)
{
    const uint8_t *p = NULL;
    size_t n = 0, i;

    if (out == NULL)
        return 0;
    *out = NULL;
    if (sim == NULL || sim->want != CL_WANT_SEND)
        return 0;
    if (sim->phase == PH_ENGINE) {
        n = sim->proto == 1 ? cl_t1_pull(&sim->e.t1, &p)
                            : cl_t0_pull(&sim->e.t0, &p);
    } else {
        p = sim->out + sim->out_off;
        n = sim->out_len - sim->out_off;
    }
    if (sim->inverse && n > 0) {
        if (n > sizeof(sim->txbuf))
            n = sizeof(sim->txbuf);
        for (i = 0; i < n; i++)
            sim->txbuf[i] = cl_atr_inverse_byte(p[i]);
        p = sim->txbuf;
    }
    sim->chunk = n;
    *out = p;
    return n;
}

/* After the ATR: specific mode runs the protocol of TA2 at once. */
static void after_atr(struct cl_sim *sim)
{
    if (sim->specific) {
        if (!sim->implicit) {
            sim->f = cl_rate_fi((uint8_t)(sim->ta1 >> 4));
            sim->d = cl_rate_di((uint8_t)(sim->ta1 & 0x0Fu));
        }
        (void)engine_start(sim);
    } else {
        sim->phase = PH_FIRST;
    }
}

/* see cardlink/sim.h */
int cl_sim_sent(struct cl_sim *sim, size_t n)
{
    int rc = CL_OK;

    if (sim == NULL || n > sim->chunk)
        return CL_ERR_ARG;
    if (sim->want != CL_WANT_SEND)
        return CL_ERR_STATE;
    sim->chunk = 0;
    if (sim->phase == PH_ENGINE) {
        rc = sim->proto == 1 ? cl_t1_sent(&sim->e.t1, n)
                             : cl_t0_sent(&sim->e.t0, n);
        if (rc != CL_OK)
            sim->phase = PH_MUTE;
    } else {
        sim->out_off += n;
        if (sim->out_off >= sim->out_len) {
            sim->out_off = sim->out_len = 0;
            if (sim->phase == PH_ATR)
                after_atr(sim);
            else if (sim->phase == PH_SBLOCK)
                sim->phase = PH_ENGINE;     /* the engine runs on */
            else
                (void)engine_start(sim);    /* after the PPS answer */
        }
    }
    update_want(sim);
    return rc;
}

/* A PPS request is complete in pps[]: answer it or go mute. */
static void pps_done(struct cl_sim *sim)
{
    struct cl_pps req;
    uint8_t pps0;
    bool rate = false;

    if (cl_pps_parse(sim->pps, sim->pps_len, &req) != CL_OK ||
        sim->cfg.pps == CL_SIM_PPS_MUTE || req.protocol > 1 ||
        !(sim->offered & (1u << req.protocol))) {
        sim->stats.pps_ignored++;
        sim->phase = PH_MUTE;
        return;
    }
    if ((req.present & CL_PPS_HAS_PPS1) && sim->cfg.pps == CL_SIM_PPS_ACCEPT) {
        uint8_t want = (uint8_t)(req.fi_index << 4 | req.di_index);
        uint8_t cdi = cl_rate_di((uint8_t)(sim->ta1 & 0x0Fu));
        uint8_t rdi = cl_rate_di(req.di_index);
        if (want == 0x11u ||
            (req.fi_index == (sim->ta1 >> 4) && rdi != 0 && rdi <= cdi &&
             cl_rate_fi(req.fi_index) != 0))
            rate = true;
    }
    pps0 = (uint8_t)(req.protocol | (rate ? CL_PPS_HAS_PPS1 : 0));
    sim->out[0] = CL_PPS_PPSS;
    sim->out[1] = pps0;
    sim->out_len = 2;
    if (rate) {
        sim->out[sim->out_len++] =
            (uint8_t)(req.fi_index << 4 | req.di_index);
        sim->f = cl_rate_fi(req.fi_index);
        sim->d = cl_rate_di(req.di_index);
    }
    sim->out[sim->out_len] = cl_lrc(sim->out, sim->out_len);
    sim->out_len++;
    sim->out_off = 0;
    sim->proto = req.protocol;
    sim->stats.pps_answered++;
    sim->phase = PH_PPS_ANSWER;
}

/* One decoded byte from the reader. */
static void feed_byte(struct cl_sim *sim, uint8_t b, bool parity)
{
    switch (sim->phase) {
    case PH_FIRST:
        if (b == CL_PPS_PPSS) {
            if (parity) {
                sim->phase = PH_MUTE;
                return;
            }
            sim->pps[0] = b;
            sim->pps_len = 1;
            sim->phase = PH_PPS;
            return;
        }
        if (engine_start(sim) != CL_OK)
            return;
        update_want(sim);
        feed_byte(sim, b, parity);
        return;
    case PH_PPS:
        if (parity) {
            sim->stats.pps_ignored++;
            sim->phase = PH_MUTE;
            return;
        }
        sim->pps[sim->pps_len++] = b;
        if (sim->pps_len >= cl_pps_expected_len(sim->pps[1]) ||
            sim->pps_len >= sizeof(sim->pps))
            pps_done(sim);
        return;
    case PH_ENGINE:
        if (sim->proto == 1) {
            if (cl_t1_want(&sim->e.t1) != CL_WANT_RECV)
                return;
            if (parity && cl_t1_parity_error(&sim->e.t1) != CL_OK)
                return;
            if (cl_t1_feed(&sim->e.t1, &b, 1) < 0)
                sim->phase = PH_MUTE;
        } else {
            /* T=0 has no checksum: a byte out of turn means the card lost
             * count of the characters, so it stops answering (the reader
             * times out) rather than act on a shifted command. */
            if (cl_t0_want(&sim->e.t0) != CL_WANT_RECV) {
                sim->phase = PH_MUTE;
                return;
            }
            if (parity) {
                /* the engine goes mute (DEACTIVATE); so does the session */
                int rc = cl_t0_parity_error(&sim->e.t0);
                (void)rc;
                sim->phase = PH_MUTE;
                return;
            }
            if (cl_t0_feed(&sim->e.t0, &b, 1) < 0)
                sim->phase = PH_MUTE;
        }
        update_want(sim);
        return;
    default:
        return;     /* out of turn: lost */
    }
}

/* see cardlink/sim.h */
int cl_sim_feed(struct cl_sim *sim, const uint8_t *bytes, size_t len)
{
    size_t i;

    if (sim == NULL || (bytes == NULL && len > 0))
        return CL_ERR_ARG;
    for (i = 0; i < len; i++) {
        uint8_t b = sim->inverse ? cl_atr_inverse_byte(bytes[i]) : bytes[i];
        bool parity = sim->parity_next;
        sim->parity_next = false;
        if (sim->want != CL_WANT_RECV) {
            if (sim->want == CL_WANT_SEND && sim->phase == PH_ENGINE &&
                sim->proto == 0) {
                sim->phase = PH_MUTE;   /* see feed_byte() */
                update_want(sim);
            }
            continue;
        }
        feed_byte(sim, b, parity);
        update_want(sim);
    }
    return len > (size_t)0x7FFFFFFF ? 0x7FFFFFFF : (int)len;
}

/* see cardlink/sim.h */
int cl_sim_parity_error(struct cl_sim *sim)
{
    if (sim == NULL)
        return CL_ERR_ARG;
    sim->parity_next = true;
    sim->stats.parity_errors++;
    return CL_OK;
}

/* see cardlink/sim.h */
uint32_t cl_sim_timer(const struct cl_sim *sim)
{
    if (sim == NULL || sim->phase != PH_ENGINE || sim->proto != 1)
        return CL_TIMER_NONE;
    return cl_t1_timer(&sim->e.t1);
}

/* see cardlink/sim.h */
int cl_sim_timeout(struct cl_sim *sim)
{
    int rc;
    if (sim == NULL)
        return CL_ERR_ARG;
    if (cl_sim_timer(sim) == CL_TIMER_NONE)
        return CL_ERR_STATE;
    rc = cl_t1_timeout(&sim->e.t1);
    update_want(sim);
    return rc;
}

/* see cardlink/sim.h */
int cl_sim_clock(struct cl_sim *sim, uint16_t f, uint16_t d)
{
    if (sim == NULL)
        return CL_ERR_ARG;
    if (f == sim->f && d == sim->d)
        return CL_OK;
    sim->stats.clock_mismatch++;
    return CL_ERR_PROTOCOL;
}

/* see cardlink/sim.h */
const uint8_t *cl_sim_atr(const struct cl_sim *sim, size_t *len)
{
    if (sim == NULL || len == NULL) {
        if (len != NULL)
            *len = 0;
        return NULL;
    }
    *len = sim->atr_len;
    return sim->atr;
}

/* see cardlink/sim.h */
uint8_t cl_sim_protocol(const struct cl_sim *sim)
{
    return sim == NULL ? 0 : sim->proto;
}

/* see cardlink/sim.h */
uint16_t cl_sim_f(const struct cl_sim *sim)
{
    return sim == NULL ? 0 : sim->f;
}

/* see cardlink/sim.h */
uint8_t cl_sim_d(const struct cl_sim *sim)
{
    return sim == NULL ? 0 : sim->d;
}

/* see cardlink/sim.h */
const struct cl_sim_stats *cl_sim_stats(const struct cl_sim *sim)
{
    return sim == NULL ? NULL : &sim->stats;
}
