/*
 * cardlink — an empty board (board.h): every hook is weak and does
 * nothing, so that firmware.c links into an image before a real board
 * exists (tests/scripts/firmware-size.py measures it). A vendor overrides
 * the hooks in its own board file.
 * SPDX-License-Identifier: Apache-2.0
 */
#include "board.h"

#define WEAK __attribute__((weak))

WEAK uint32_t board_ms(void) { return 0; }
WEAK uint32_t board_us(void) { return 0; }
WEAK void board_idle(void) { }
WEAK bool board_card_present(void) { return false; }
WEAK int board_card_reset(bool warm) { (void)warm; return CL_ERR_IO; }
WEAK int board_card_params(const struct cl_card_line_params *p) { (void)p; return CL_ERR_IO; }
WEAK void board_card_off(void) { }
WEAK int board_card_send(const uint8_t *p, size_t n) { (void)p; (void)n; return CL_ERR_IO; }
WEAK int board_card_recv(uint8_t *p, size_t n) { (void)p; (void)n; return 0; }
WEAK bool board_modem_up(void) { return false; }
WEAK size_t board_modem_read(uint8_t *p, size_t n) { (void)p; (void)n; return 0; }
WEAK size_t board_modem_write(const uint8_t *p, size_t n) { (void)p; (void)n; return 0; }
WEAK void board_link_config(struct cl_relay_lossy_config *lc) { (void)lc; }
WEAK void board_show(const struct cl_ui_screen *s) { (void)s; }
WEAK int board_key(void) { return -1; }
WEAK size_t board_pin(uint8_t *d, size_t max) { (void)d; (void)max; return 0; }
WEAK int board_sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
    (void)data;
    (void)len;
    (void)out;
    return CL_ERR_UNSUPPORTED;
}
WEAK int board_flash_read(const char *key, uint8_t *buf, size_t size)
{
    (void)key;
    (void)buf;
    (void)size;
    return CL_ERR_NOT_FOUND;
}
WEAK int board_flash_write(const char *key, const uint8_t *data, size_t len)
{
    (void)key;
    (void)data;
    (void)len;
    return CL_ERR_IO;
}
WEAK int board_flash_erase(const char *key) { (void)key; return CL_OK; }
WEAK const uint8_t *board_device_id(size_t *len)
{
    static const uint8_t id[] = { 'b', 'o', 'a', 'r', 'd' };
    *len = sizeof(id);
    return id;
}
WEAK uint32_t board_boot_count(void) { return 0; }
