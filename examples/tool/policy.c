/*
 * cardlink-tool policy: would a cardlink device relay this command?
 * SPDX-License-Identifier: Apache-2.0
 *
 *   cardlink-tool policy [--iso] [--after-pin] HEX
 *
 * asks lib/policy (docs/protocol.md §10) what a device does with HEX when
 * a server relays it in an APDU message: the cardlink applet's rule set is
 * on unless --iso (a plain ISO 7816-4 card); --after-pin first marks the
 * card PIN-verified, as a device-built VERIFY answered 9000 does. Exit 0
 * relayed, 1 refused, 2 usage.
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/policy.h"
#include "tool/tool.h"

/* see tool/tool.h */
int cmd_policy(int argc, char **argv)
{
    struct cl_policy cfg;
    struct cl_policy_state st;
    int i = 2;
    long n;
    uint8_t why = CL_POLICY_ALLOWED;

    memset(&cfg, 0, sizeof(cfg));
    cfg.flags = CL_POLICY_F_CARDLINK;
    cl_policy_init(&st);
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--iso") == 0)
            cfg.flags = 0;
        else if (strcmp(argv[i], "--after-pin") == 0)
            cl_policy_pin_result(&st, 0x80, 0x9000);
        else
            return usage();
    }
    if (i >= argc)
        return usage();
    n = parse_hex_args(argc, argv, i);
    if (n < 0)
        return 2;
    printf("relay ");
    print_hex(stdout, inbuf, (size_t)n, " ");
    if (cl_policy_check_apdu(&cfg, &st, inbuf, (size_t)n, &why) == CL_OK) {
        printf(": relayed\n");
        return 0;
    }
    printf(": refused, %s (ERROR %s)\n", cl_policy_reason_name(why),
           cl_policy_wire_code(why) == cl_policy_wire_code(CL_POLICY_R_TOO_LARGE) ? "TOO_LARGE"
                                                                                 : "DENIED");
    return 1;
}
