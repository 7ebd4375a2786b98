/*
 * cardlink — lib/txn internals shared by txn.c, txn_render.c and
 * txn_digest.c. Not installed; not API.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef CARDLINK_TXN_INT_H
#define CARDLINK_TXN_INT_H

#include "cardlink/tlv.h"
#include "cardlink/txn.h"

/* The format's own maxima; the CL_TXN_* limits may only lower them. */
#if CL_TXN_MERCHANT_MAX > 40 || CL_TXN_MERCHANT_MAX < 1
#error "CL_TXN_MERCHANT_MAX must be 1..40"
#endif
#if CL_TXN_ITEMS_MAX > 8 || CL_TXN_ITEMS_MAX < 1
#error "CL_TXN_ITEMS_MAX must be 1..8"
#endif
#if CL_TXN_ITEM_MAX > 24 || CL_TXN_ITEM_MAX < 1
#error "CL_TXN_ITEM_MAX must be 1..24"
#endif
#if CL_TXN_TEXT_MAX > 120 || CL_TXN_TEXT_MAX < 1
#error "CL_TXN_TEXT_MAX must be 1..120"
#endif

/* Longest display form of any text field, NUL included. */
#define CL_TXN_I_DISPLAY_MAX (2 * CL_TXN_TEXT_MAX + 1)

/* Validate every field of txn as the decoder would (syntax only). */
int cl_txn_i_validate(const struct cl_txn *txn);

/* Write the E1 template of txn into b: canonical, or (display) with every
 * text in its display form and no challenge. txn must be valid. */
void cl_txn_i_encode(struct cl_tlv_builder *b, const struct cl_txn *txn,
                     bool display);

/* The display form of the valid NUL-terminated text s into out, which
 * must hold 2 * strlen(s) + 1 bytes; returns its length (NUL not
 * counted). */
size_t cl_txn_i_display(const char *s, char *out);

/* strlen, which the core may not link. */
size_t cl_txn_i_len(const char *s);

/* The name a kind is shown with ("Purchase"), at most 12 characters
 * (CL_TXN_WIDTH_MIN): on its own line. */
const char *cl_txn_i_kind_label(unsigned kind);

/* The label of the amount line ("Pay" in "Pay EUR 1.00"), at most 6
 * characters. */
const char *cl_txn_i_amount_label(unsigned kind);

#endif
