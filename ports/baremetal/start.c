/*
 * cardlink — a Cortex-M start for the device image: the vector table's
 * first entries, the reset handler (.data copied, .bss cleared) and the
 * main loop, sleeping whenever a pass moved nothing.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "board.h"
#include "firmware.h"

int main(void);
void cl_board_reset(void);

/* from cortex-m.ld */
extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[],
    __stack_top[];

int main(void)
{
    if (cl_fw_setup() != CL_OK)
        for (;;)
            board_idle();   /* a flash record this build cannot read */
    for (;;)
        if (!cl_fw_poll())
            board_idle();
}

void cl_board_reset(void)
{
    uint32_t *s = __data_load, *d = __data_start;

    while (d < __data_end)
        *d++ = *s++;
    for (d = __bss_start; d < __bss_end; d++)
        *d = 0;
    (void)main();
}

static void halt(void)
{
    for (;;) {
    }
}

/* Stack top, reset, NMI, hard fault; a vendor's table goes on with its
 * own interrupts. */
__attribute__((section(".vectors"), used)) static void (*const vectors[4])(void) = {
    (void (*)(void))(uintptr_t)__stack_top, cl_board_reset, halt, halt,
};
