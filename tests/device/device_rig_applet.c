/*
 * cardlink — the rig's applet card (see device_rig.h): the cardlink applet
 * with keys made by the posix crypto port (mbedtls) in the card simulator.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "applet_crypto.h"
#include "cardlink/error.h"
#include "device_rig.h"
#include "test_util.h"

void rig_applet_state(struct cl_posix_crypto *pc, struct cl_applet_crypto *port,
                      struct cl_applet_state *st, const uint8_t serial[8])
{
    ck_assert_int_eq(cl_posix_crypto_init(pc, port, NULL, 0), CL_OK);
    cl_applet_state_init(st);
    ck_assert_int_eq(cl_applet_state_set_pin(st, false, "1234", 4, 3), CL_OK);
    ck_assert_int_eq(cl_applet_state_set_pin(st, true, "12345678", 8, 10), CL_OK);
    ck_assert_int_eq(cl_posix_crypto_keygen(pc, st->priv, st->pub), CL_OK);
    ck_assert_int_eq(cl_posix_crypto_keygen(pc, st->sign_priv, st->sign_pub), CL_OK);
    memcpy(st->serial, serial, 8);
    st->currency = 978;
}

void rig_applet_card(struct cl_applet *ap, struct cl_applet_state *st,
                     struct cl_applet_crypto *port, struct cl_cardapp *inner, struct cl_sim *sim,
                     int (*process)(void *ctx, const uint8_t *cmd, size_t n, uint8_t *r,
                                    size_t rs, size_t *rl))
{
    struct cl_sim_config sc;
    struct cl_cardapp app;

    ck_assert_int_eq(cl_applet_init(ap, st, port, NULL), CL_OK);
    ck_assert_int_eq(cl_applet_app(ap, inner), CL_OK);
    app = *inner;
    app.process = process;
    cl_sim_config_default(&sc, true);
    ck_assert_int_eq(cl_sim_setup(sim, &sc, &app), CL_OK);
}
