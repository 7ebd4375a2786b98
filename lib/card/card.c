/*
 * cardlink — card session: configuration, state and the pure decisions
 * (protocol, PPS, line parameters, engine configuration). The engine is
 * card_engine.c, the blocking driver that moves bytes card_io.c.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "card_int.h"
#include "cardlink/error.h"
#include "cardlink/rate.h"

/* see cardlink/card.h */
void cl_card_config_default(struct cl_card_config *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->protocol = CL_CARD_T_ANY;
    cfg->ifsd = (uint8_t)CL_T1_IFS_MAX;
    cfg->pps = true;
    cfg->warm_retry = true;
    cfg->ts_etu = 9600u;
    cfg->atr_total_etu = 20160u;
}

static NOINLINE void card_init(struct cl_card *card, const struct cl_card_config *cfg)
{
    memset(card, 0, sizeof(*card));
    if (cfg != NULL)
        card->cfg = *cfg;
    else
        cl_card_config_default(&card->cfg);
}

/* see cardlink/card.h */
void cl_card_init_line(struct cl_card *card, const struct cl_card_line *line,
                       void *ctx, const struct cl_card_config *cfg)
{
    if (card == NULL)
        return;
    card_init(card, cfg);
    card->line = line;
    card->ctx = ctx;
}

/* see cardlink/card.h */
void cl_card_init_apdu(struct cl_card *card, const struct cl_card_apdu *apdu,
                       void *ctx, const struct cl_card_config *cfg)
{
    if (card == NULL)
        return;
    card_init(card, cfg);
    card->apdu = apdu;
    card->ctx = ctx;
}

/* see cardlink/card.h */
unsigned cl_card_state(const struct cl_card *card)
{
    return card == NULL ? CL_CARD_CLOSED : card->state;
}

/* see cardlink/card.h */
const struct cl_atr *cl_card_atr(const struct cl_card *card)
{
    if (card == NULL || card->state != CL_CARD_ACTIVE)
        return NULL;
    return &card->atr;
}

/* see cardlink/card.h */
int cl_card_protocol(const struct cl_card *card)
{
    if (card == NULL)
        return CL_ERR_ARG;
    if (card->state != CL_CARD_ACTIVE)
        return CL_ERR_CLOSED;
    return card->protocol;
}

/* see cardlink/card.h */
const struct cl_card_info *cl_card_info(const struct cl_card *card)
{
    return card == NULL ? NULL : &card->info;
}

/* see cardlink/card.h */
const struct cl_card_line_params *cl_card_params(const struct cl_card *card)
{
    return card == NULL ? NULL : &card->params;
}

/* see cardlink/card.h */
const struct cl_card_stats *cl_card_stats(const struct cl_card *card)
{
    return card == NULL ? NULL : &card->stats;
}

/* see cardlink/card.h */
const struct cl_t0 *cl_card_t0(const struct cl_card *card)
{
    if (card == NULL || card->line == NULL ||
        card->state != CL_CARD_ACTIVE || card->protocol != 0)
        return NULL;
    return &card->eng.t0;
}

/* see cardlink/card.h */
const struct cl_t1 *cl_card_t1(const struct cl_card *card)
{
    if (card == NULL || card->line == NULL ||
        card->state != CL_CARD_ACTIVE || card->protocol != 1)
        return NULL;
    return &card->eng.t1;
}

/* see cardlink/card.h */
bool cl_card_sw_inverse(const struct cl_card *card)
{
    return card != NULL && card->sw_inverse;
}

/* Whether the line runs F, D at clock_khz. */
static NOINLINE bool line_runs(const struct cl_card_line_caps *caps, uint16_t f,
                      uint8_t d, uint32_t clock_khz)
{
    size_t i;
    bool pair = caps->any_fd || (f == CL_RATE_FD && d == CL_RATE_DD);

    for (i = 0; !pair && i < caps->n_pairs; i++)
        pair = caps->pairs[i].f == f && caps->pairs[i].d == d;
    if (!pair)
        return false;
    return caps->max_baud == 0 ||
           cl_rate_baud(clock_khz, f, d) <= caps->max_baud;
}

/* Whether the session can run protocol t with this card. */
static bool proto_ok(const struct cl_atr *atr, uint8_t t)
{
    if (t == 0)
        return true;
    return t == 1 && (atr->p.flags & CL_ATR_F_IFSC_INVALID) == 0;
}

static bool offered(const struct cl_atr *atr, uint8_t t)
{
    unsigned i;

    for (i = 0; i < atr->nproto && i < sizeof(atr->proto); i++)
        if (atr->proto[i] == t)
            return true;
    return false;
}

/* see cardlink/card.h */
int cl_card_plan(const struct cl_atr *atr,
                 const struct cl_card_line_caps *caps,
                 const struct cl_card_config *cfg, bool allow_pps,
                 struct cl_card_plan *plan)
{
    struct cl_pps_reader_caps rc;
    struct cl_pps_rate rate;
    uint8_t t = 0xFFu;
    unsigned i;
    size_t len;
    int rv;

    if (atr == NULL || caps == NULL || cfg == NULL || plan == NULL ||
        caps->clock_khz == 0 || (caps->pairs == NULL && caps->n_pairs > 0))
        return CL_ERR_ARG;
    memset(plan, 0, sizeof(*plan));
    plan->params.f = CL_RATE_FD;
    plan->params.d = CL_RATE_DD;
    plan->params.clock_khz = caps->clock_khz;
    plan->params.n = atr->p.n;
    plan->params.inverse = (atr->p.flags & CL_ATR_F_INVERSE) != 0;
    plan->params.parity = true;

    if (atr->p.flags & CL_ATR_F_SPECIFIC) {
        /* §6.3.1: the card runs the protocol TA2 names, at TA1's factors
         * unless TA2 b5 says they are implicit (then Fd/Dd here). */
        t = atr->p.specific_t;
        if (t > 1 || !proto_ok(atr, t))
            return CL_ERR_UNSUPPORTED;
        plan->protocol = t;
        plan->params.protocol = t;
        if ((atr->p.flags & CL_ATR_F_IMPLICIT) == 0 &&
            (atr->p.flags & CL_ATR_F_TA1) != 0) {
            uint32_t clock;

            if (atr->p.flags & CL_ATR_F_RATE_RESERVED)
                return CL_ERR_RESERVED;
            clock = atr->p.fmax_khz;
            if (clock > caps->max_clock_khz)
                clock = caps->max_clock_khz;
            if (clock < caps->clock_khz)
                clock = caps->clock_khz;
            if (!line_runs(caps, atr->p.fi, atr->p.di, clock))
                return CL_ERR_UNSUPPORTED;
            plan->params.f = atr->p.fi;
            plan->params.d = atr->p.di;
            plan->params.clock_khz = clock;
        }
        return CL_OK;
    }

    /* Negotiable mode: without PPS the card runs its first protocol. */
    if (!allow_pps || !cfg->pps) {
        t = atr->proto[0];
        if (t > 1 || !proto_ok(atr, t))
            return CL_ERR_UNSUPPORTED;
        plan->protocol = t;
        plan->params.protocol = t;
        return CL_OK;
    }
    if (cfg->protocol <= 1 && offered(atr, cfg->protocol) &&
        proto_ok(atr, cfg->protocol)) {
        t = cfg->protocol;
    } else {
        for (i = 0; i < atr->nproto && i < sizeof(atr->proto); i++) {
            if (atr->proto[i] <= 1 && proto_ok(atr, atr->proto[i])) {
                t = atr->proto[i];
                break;
            }
        }
    }
    if (t > 1)
        return CL_ERR_UNSUPPORTED;
    plan->protocol = t;
    plan->params.protocol = t;

    rc.max_baud = caps->max_baud;
    rc.max_clock_khz = caps->max_clock_khz > caps->clock_khz
                           ? caps->max_clock_khz : caps->clock_khz;
    rc.pairs = caps->pairs;
    rc.n_pairs = caps->n_pairs;
    rc.any = caps->any_fd;
    rv = cl_pps_pick_rate(atr->p.ta1, &rc, &rate);
    if (rv != CL_OK)
        return rv;
    if (!rate.pps_needed && t == atr->proto[0])
        return CL_OK;

    plan->pps = true;
    plan->pps_req.protocol = t;
    if (rate.pps_needed) {
        plan->pps_req.present = CL_PPS_HAS_PPS1;
        plan->pps_req.fi_index = rate.fi_index;
        plan->pps_req.di_index = rate.di_index;
        plan->params.f = cl_rate_fi(rate.fi_index);
        plan->params.d = cl_rate_di(rate.di_index);
        plan->params.clock_khz = rate.clock_khz;
    }
    rv = cl_pps_build(&plan->pps_req, plan->pps_bytes, &len);
    if (rv != CL_OK)
        return rv;
    plan->pps_len = (uint8_t)len;
    return CL_OK;
}

/* see cardlink/card.h */
int cl_card_plan_pps_result(struct cl_card_plan *plan,
                            const struct cl_card_line_caps *caps,
                            const struct cl_pps *accepted)
{
    if (plan == NULL || caps == NULL || accepted == NULL)
        return CL_ERR_ARG;
    if ((accepted->present & CL_PPS_HAS_PPS1) == 0) {
        plan->params.f = CL_RATE_FD;
        plan->params.d = CL_RATE_DD;
        plan->params.clock_khz = caps->clock_khz;
    }
    return CL_OK;
}

/* see cardlink/card.h */
int cl_card_t1_config(const struct cl_atr *atr,
                      const struct cl_card_line_params *p, uint8_t ifsd,
                      struct cl_t1_config *cfg)
{
    if (atr == NULL || p == NULL || cfg == NULL || ifsd == 255u)
        return CL_ERR_ARG;
    if (atr->p.flags & CL_ATR_F_IFSC_INVALID)
        return CL_ERR_UNSUPPORTED;
    cl_t1_config_default(cfg, CL_T1_ROLE_READER);
    cfg->edc = (atr->p.flags & CL_ATR_F_CRC) ? CL_T1_EDC_CRC : CL_T1_EDC_LRC;
    cfg->ifsc = atr->p.ifsc;
    cfg->bwi = atr->p.bwi > 9u ? 9u : atr->p.bwi;
    cfg->cwi = atr->p.cwi;
    cfg->f = p->f;
    cfg->d = p->d;
    if (ifsd == 0) {
        cfg->ifsd = (uint8_t)CL_T1_IFS_DEFAULT;
        cfg->ifs_at_start = false;
    } else {
        cfg->ifsd = ifsd;
        cfg->ifs_at_start = true;
    }
    return CL_OK;
}

/* see cardlink/card.h */
int cl_card_t0_config(const struct cl_atr *atr,
                      const struct cl_card_line_params *p,
                      struct cl_t0_config *cfg)
{
    if (atr == NULL || p == NULL || cfg == NULL)
        return CL_ERR_ARG;
    cl_t0_config_default(cfg, CL_T0_ROLE_READER);
    cfg->wi = atr->p.wi == 0 ? (uint8_t)CL_T0_WI_DEFAULT : atr->p.wi;
    cfg->d = p->d;
    return CL_OK;
}
