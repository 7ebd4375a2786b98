/*
 * cardlink — the device's APDU firewall (docs/protocol.md §10).
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cardlink/apdu.h"
#include "cardlink/error.h"
#include "cardlink/firewall.h"

/* see cardlink/firewall.h */
const struct cl_fw_rule cl_fw_rules[] = {
    /* rule 2: PIN handling, any CLA; VERIFY without data only reads the counter */
    { 0x00, 0x00, 0x20, CL_FW_WHEN_DATA, CL_FW_R_PIN },   /* VERIFY */
    { 0x00, 0x00, 0x21, CL_FW_WHEN_DATA, CL_FW_R_PIN },   /* VERIFY (BER-TLV data) */
    { 0x00, 0x00, 0x24, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN }, /* CHANGE REFERENCE DATA */
    { 0x00, 0x00, 0x25, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN },
    { 0x00, 0x00, 0x2C, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN }, /* RESET RETRY COUNTER */
    { 0x00, 0x00, 0x2D, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN },
    { 0x00, 0x00, 0x26, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN }, /* DISABLE VERIFICATION REQUIREMENT */
    { 0x00, 0x00, 0x27, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN },
    { 0x00, 0x00, 0x28, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN }, /* ENABLE VERIFICATION REQUIREMENT */
    { 0x00, 0x00, 0x29, CL_FW_WHEN_ALWAYS, CL_FW_R_PIN },
    /* rule 3: tunnels */
    { 0x00, 0x00, 0xC2, CL_FW_WHEN_ALWAYS, CL_FW_R_TUNNEL }, /* ENVELOPE */
    { 0x00, 0x00, 0xC3, CL_FW_WHEN_ALWAYS, CL_FW_R_TUNNEL },
    /* rule 4: after a PIN verification, nothing that signs or authenticates */
    { 0x00, 0x00, 0x2A, CL_FW_WHEN_PIN_VERIFIED, CL_FW_R_AFTER_PIN }, /* PSO */
    { 0x00, 0x00, 0x88, CL_FW_WHEN_PIN_VERIFIED, CL_FW_R_AFTER_PIN }, /* INTERNAL AUTHENTICATE */
    { 0x00, 0x00, 0x86, CL_FW_WHEN_PIN_VERIFIED, CL_FW_R_AFTER_PIN }, /* GENERAL AUTHENTICATE */
    { 0x00, 0x00, 0x87, CL_FW_WHEN_PIN_VERIFIED, CL_FW_R_AFTER_PIN },
    { 0x00, 0x00, 0x22, CL_FW_WHEN_PIN_VERIFIED, CL_FW_R_AFTER_PIN }, /* MANAGE SECURITY ENV. */
    { 0x00, 0x00, 0xAE, CL_FW_WHEN_PIN_VERIFIED, CL_FW_R_AFTER_PIN }, /* GENERATE AC */
};

/* see cardlink/firewall.h */
const size_t cl_fw_nrules = sizeof(cl_fw_rules) / sizeof(cl_fw_rules[0]);

/* The first rule of t[0..n) that refuses a, or NULL. */
static const struct cl_fw_rule *match(const struct cl_fw_rule *t, size_t n,
                                      const struct cl_fw_state *st, const struct cl_apdu *a)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct cl_fw_rule *r = &t[i];
        bool cond;
        if ((a->cla & r->cla_mask) != r->cla || a->ins != r->ins)
            continue;
        switch (r->when) {
        case CL_FW_WHEN_DATA:
            cond = a->nc > 0;
            break;
        case CL_FW_WHEN_PIN_VERIFIED:
            cond = st->pin_verified;
            break;
        default:
            cond = true;
            break;
        }
        if (cond)
            return r;
    }
    return NULL;
}

static int deny(uint8_t *reason, uint8_t why)
{
    if (reason != NULL)
        *reason = why;
    return CL_ERR_DENIED;
}

/* see cardlink/firewall.h */
int cl_firewall_check(const struct cl_firewall *fw, const struct cl_fw_state *st, uint8_t origin,
                      const uint8_t *apdu, size_t len, uint8_t *reason)
{
    static const struct cl_firewall no_fw = { 0, 0, 0, NULL, 0 };
    static const struct cl_fw_state no_st = { false, false };
    const struct cl_fw_rule *r;
    struct cl_apdu a;
    size_t max;

    if (reason != NULL)
        *reason = CL_FW_ALLOWED;
    if ((apdu == NULL && len > 0) || origin > CL_FW_TEMPLATE_CHANGE)
        return CL_ERR_ARG;
    if (fw == NULL)
        fw = &no_fw;
    if (st == NULL)
        st = &no_st;
    /* rule 1 */
    if (cl_apdu_decode(apdu, len, &a, NULL) != CL_OK)
        return deny(reason, CL_FW_R_MALFORMED);
    max = fw->max_apdu != 0 ? fw->max_apdu : CL_APDU_MAX;
    if (len > max)
        return deny(reason, CL_FW_R_TOO_LARGE);
    if (a.cla == 0xFFu)
        return deny(reason, CL_FW_R_READER_CLA);
    switch (origin) {
    case CL_FW_SIGN:
        if (a.ins != 0x2Au && a.ins != 0x88u)
            return deny(reason, CL_FW_R_SIGN_INS);
        if (!st->txn_approved)
            return deny(reason, CL_FW_R_NOT_APPROVED);
        return CL_OK;
    case CL_FW_TEMPLATE_VERIFY:
        return a.ins == 0x20u ? CL_OK : deny(reason, CL_FW_R_TEMPLATE_INS);
    case CL_FW_TEMPLATE_CHANGE:
        return a.ins == 0x24u ? CL_OK : deny(reason, CL_FW_R_TEMPLATE_INS);
    default:
        break;
    }
    if ((r = match(cl_fw_rules, cl_fw_nrules, st, &a)) != NULL ||
        (fw->extra != NULL && (r = match(fw->extra, fw->nextra, st, &a)) != NULL))
        return deny(reason, r->reason != CL_FW_ALLOWED ? r->reason : (uint8_t)CL_FW_R_USER);
    return CL_OK;
}

/* see cardlink/firewall.h */
int cl_firewall_check_msg(const struct cl_firewall *fw, const struct cl_fw_state *st,
                          const struct cl_relay_msg *m, size_t wire_len, uint8_t *reason,
                          size_t *step)
{
    size_t i, max;
    int rc;

    if (reason != NULL)
        *reason = CL_FW_ALLOWED;
    if (step != NULL)
        *step = 0;
    if (m == NULL)
        return CL_ERR_ARG;
    if (fw != NULL && fw->max_msg != 0 && wire_len > fw->max_msg)
        return deny(reason, CL_FW_R_MSG_SIZE);
    switch (m->type) {
    case CL_RELAY_APDU:
        return cl_firewall_check(fw, st, CL_FW_RELAY, m->u.apdu.apdu.data, m->u.apdu.apdu.len,
                                 reason);
    case CL_RELAY_SCRIPT:
        max = fw != NULL && fw->max_steps != 0 ? fw->max_steps : CL_RELAY_SCRIPT_MAX;
        if (m->u.script.nsteps > max || m->u.script.nsteps > CL_RELAY_SCRIPT_MAX)
            return deny(reason, CL_FW_R_SCRIPT_STEPS);
        for (i = 0; i < m->u.script.nsteps; i++) {
            const struct cl_relay_bytes *b = &m->u.script.steps[i].apdu;
            if (step != NULL)
                *step = i;
            if ((rc = cl_firewall_check(fw, st, CL_FW_SCRIPT, b->data, b->len, reason)) != CL_OK)
                return rc;
        }
        if (step != NULL)
            *step = 0;
        return CL_OK;
    case CL_RELAY_PIN_VERIFY:
        return cl_firewall_check(fw, st, CL_FW_TEMPLATE_VERIFY, m->u.pin.apdu.data,
                                 m->u.pin.apdu.len, reason);
    case CL_RELAY_PIN_CHANGE:
        return cl_firewall_check(fw, st, CL_FW_TEMPLATE_CHANGE, m->u.pin.apdu.data,
                                 m->u.pin.apdu.len, reason);
    case CL_RELAY_TXN_APPROVE:
        if (m->u.txn.has_pin &&
            (rc = cl_firewall_check(fw, st, CL_FW_TEMPLATE_VERIFY, m->u.txn.pin.apdu.data,
                                    m->u.txn.pin.apdu.len, reason)) != CL_OK)
            return rc;
        if (m->u.txn.sign_cmd[0] == 0xFFu)
            return deny(reason, CL_FW_R_READER_CLA);
        if (m->u.txn.sign_cmd[1] != 0x2Au && m->u.txn.sign_cmd[1] != 0x88u)
            return deny(reason, CL_FW_R_SIGN_INS);
        return CL_OK;
    default:
        return CL_OK;
    }
}

/* see cardlink/firewall.h */
uint8_t cl_firewall_wire_code(uint8_t reason)
{
    switch (reason) {
    case CL_FW_ALLOWED:
        return CL_RELAY_E_NONE;
    case CL_FW_R_TOO_LARGE:
    case CL_FW_R_SCRIPT_STEPS:
    case CL_FW_R_MSG_SIZE:
        return CL_RELAY_E_TOO_LARGE;
    default:
        return CL_RELAY_E_DENIED;
    }
}

/* see cardlink/firewall.h */
const char *cl_firewall_reason_name(uint8_t reason)
{
    static const char *const names[] = {
        "allowed", "malformed APDU", "APDU too large", "too many script steps",
        "message too large", "reader CLA FF", "PIN handling", "ENVELOPE tunnel",
        "signing after PIN verification", "signing command not PSO/INTERNAL AUTHENTICATE",
        "no approved transaction", "PIN template INS", "integrator rule",
    };
    return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "?";
}
