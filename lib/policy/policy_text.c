/*
 * cardlink — the device's rules for texts: server texts and their mark,
 * prompts that could be mistaken for PIN entry, transaction texts that
 * read like an amount (docs/protocol.md §10).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <string.h>

#include "cardlink/error.h"
#include "cardlink/policy.h"
#include "policy_int.h"

/* ------------------------------------------------------------ Latin-1 */

/* Transliterations of U+00C0..U+00FF (lib/txn's display forms): the base
 * letter and, for the ligatures, thorn and sharp s, a second one. '?' for
 * the two signs (multiplication, division) that are not letters. */
static const char base_letter[65] =
    "AAAAAAACEEEEIIIIDNOOOOO?OUUUUYTs"
    "aaaaaaaceeeeiiiidnooooo?ouuuuyty";

static char second_letter(unsigned cp)
{
    switch (cp) {
    case 0xC6: return 'E';
    case 0xDE: return 'H';
    case 0xDF: return 's';
    case 0xE6: return 'e';
    case 0xFE: return 'h';
    default: return '\0';
    }
}

/*
 * Read one character of s[*i..n): ASCII as itself, a UTF-8 Latin-1 letter
 * (C3 80..C3 BF) as its transliteration (one or two letters in out), any
 * other byte as '?'. Returns how many characters were written to out (1 or
 * 2) and advances *i.
 */
static size_t next_char(const uint8_t *s, size_t n, size_t *i, char out[2])
{
    uint8_t c = s[*i];

    if (c < 0x80u) {
        out[0] = (char)c;
        *i += 1;
        return 1;
    }
    if (c == 0xC3u && *i + 1 < n && (s[*i + 1] & 0xC0u) == 0x80u) {
        unsigned cp = 0xC0u + (s[*i + 1] & 0x3Fu);
        char second = second_letter(cp);
        out[0] = base_letter[cp - 0xC0u];
        *i += 2;
        if (second) {
            out[1] = second;
            return 2;
        }
        return 1;
    }
    out[0] = '?';
    *i += 1;
    return 1;
}

/* see policy_int.h */
size_t cl_policy_i_display(const char *s, size_t cap, char *out, size_t size)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = cl_strnlen(s, cap), i = 0, o = 0;
    char c[2];

    while (i < n && o + 1 < size) {
        size_t k = next_char(p, n, &i, c), j;
        for (j = 0; j < k && o + 1 < size; j++)
            out[o++] = c[j];
    }
    out[o] = '\0';
    return o;
}

/* ------------------------------------------------------------ server texts */

/* see cardlink/policy.h */
int cl_policy_check_text(const uint8_t *text, size_t len, uint8_t *reason)
{
    size_t i;

    cl_policy_i_allow(reason);
    if (text == NULL && len > 0)
        return CL_ERR_ARG;
    for (i = 0; i < len; i++)
        if ((text[i] < 0x20u && text[i] != '\n') || text[i] > 0x7Eu)
            return cl_policy_i_deny(reason, CL_POLICY_R_TEXT);
    return CL_OK;
}

/* see cardlink/policy.h */
int cl_policy_mark_text(const uint8_t *text, size_t len, unsigned width, char *out, size_t size,
                        size_t *out_len)
{
    size_t i = 0, o = 0, col = 0;
    bool open = false;   /* a line is started (mark written) */
    unsigned room;

    if (out_len != NULL)
        *out_len = 0;
    if ((text == NULL && len > 0) || out == NULL || out_len == NULL || width < 3 ||
        width > 255)
        return CL_ERR_ARG;
    if (cl_policy_check_text(text, len, NULL) != CL_OK)
        return CL_ERR_DENIED;
    room = width - CL_POLICY_SERVER_MARK_LEN;
    for (i = 0; i < len; i++) {
        if (!open || (text[i] != '\n' && col == room)) {
            if (open) {                          /* cut a long line */
                if (o + 1 > size)
                    return CL_ERR_BUFFER;
                out[o++] = '\n';
            }
            if (o + CL_POLICY_SERVER_MARK_LEN > size)
                return CL_ERR_BUFFER;
            memcpy(out + o, CL_POLICY_SERVER_MARK, CL_POLICY_SERVER_MARK_LEN);
            o += CL_POLICY_SERVER_MARK_LEN;
            open = true;
            col = 0;
        }
        if (o + 1 > size)
            return CL_ERR_BUFFER;
        out[o++] = (char)text[i];
        if (text[i] == '\n')
            open = false;
        else
            col++;
    }
    if (open) {
        if (o + 1 > size)
            return CL_ERR_BUFFER;
        out[o++] = '\n';
    }
    if (o + 1 > size)
        return CL_ERR_BUFFER;
    out[o] = '\0';
    *out_len = o;
    return CL_OK;
}

/* ------------------------------------------------------------ PIN words */

/*
 * Words that ask for a PIN or a password, normalised (lower case letters
 * only), in the languages of the transaction text repertoire. Searched as
 * substrings of the normalised text, so "Enter PIN", "P I N", "Enter P1N"
 * and "Pincode" all hold "pin".
 */
static const char *const pin_words[] = {
    "pin",                  /* en, de, nl, nordic: PIN, PIN-Code, pincode, pinkode, PIN-kod */
    "nip",                  /* fr-CA, es-MX: NIP */
    "passw",                /* password, passwort, passwd */
    "passcode", "passord",  /* en; no: passord */
    "secret",               /* en; fr: code secret */
    "segret",               /* it: codice segreto */
    "geheim",               /* de: Geheimzahl, Geheimnummer; nl: geheime code */
    "kennwort", "kennzahl", /* de */
    "motdepasse",           /* fr */
    "confidentiel",         /* fr: code confidentiel */
    "confidenzial",         /* it: codice confidenziale */
    "clave", "contrasen",   /* es: clave, contrasena */
    "senha", "palavrapasse",/* pt */
    "wachtwoord",           /* nl */
    "tunnusluku", "salasana", /* fi */
    "losenord",             /* sv: losenord */
    "adgangskode",          /* da */
    "cardcode", "accesscode", "securitycode", "personalcode", /* en */
    "cvv", "cvc",           /* card security codes */
};

/* Letters for digits and look-alikes; 0 drops the character. */
static char fold(char c, bool l_as_i)
{
    if (c >= 'A' && c <= 'Z')
        c = (char)(c - 'A' + 'a');
    if (c >= 'a' && c <= 'z')
        return c == 'l' && l_as_i ? 'i' : c;
    switch (c) {
    case '0': return 'o';
    case '1': return 'i';
    case '2': return 'z';
    case '3': return 'e';
    case '4': return 'a';
    case '5': return 's';
    case '6': return 'g';
    case '7': return 't';
    case '8': return 'b';
    case '9': return 'g';
    case '@': return 'a';
    case '$': return 's';
    case '!': return 'i';
    case '|': return 'i';
    default: return '\0';
    }
}

/* Longest text normalised: server texts are at most 512 bytes (DISPLAY),
 * prompts 128; each byte gives at most two letters. Longer texts are
 * searched in overlapping windows. */
#define NORM_MAX 256u

static bool has_word(const char *norm, size_t n)
{
    size_t w, i;

    for (w = 0; w < CL_ARRAY_LEN(pin_words); w++) {
        const char *word = pin_words[w];
        size_t wl = 0;
        while (word[wl] != '\0')
            wl++;
        for (i = 0; i + wl <= n; i++)
            if (memcmp(norm + i, word, wl) == 0)
                return true;
    }
    return false;
}

static bool words_pass(const uint8_t *text, size_t len, bool l_as_i)
{
    char norm[NORM_MAX];
    size_t i = 0, n = 0;

    while (i < len) {
        char c[2];
        size_t k = next_char(text, len, &i, c), j;
        for (j = 0; j < k; j++) {
            char f = fold(c[j], l_as_i);
            if (f == '\0')
                continue;
            if (n == NORM_MAX) {
                /* window full: search it, keep a tail longer than any word */
                if (has_word(norm, n))
                    return true;
                memmove(norm, norm + NORM_MAX - 16u, 16u);
                n = 16u;
            }
            norm[n++] = f;
        }
    }
    return has_word(norm, n);
}

/* see cardlink/policy.h */
bool cl_policy_pin_words(const uint8_t *text, size_t len)
{
    if (text == NULL)
        return false;
    return words_pass(text, len, false) || words_pass(text, len, true);
}

/* see cardlink/policy.h */
int cl_policy_check_prompt(const struct cl_policy *cfg, const struct cl_relay_prompt *p,
                           uint8_t *reason)
{
    int rc;

    cl_policy_i_allow(reason);
    if (p == NULL || (p->text.data == NULL && p->text.len > 0))
        return CL_ERR_ARG;
    if ((rc = cl_policy_check_text(p->text.data, p->text.len, reason)) != CL_OK)
        return rc;
    if (p->kind == CL_RELAY_PROMPT_YESNO)
        return CL_OK;
    if (p->kind == CL_RELAY_PROMPT_NUMERIC && p->max_len >= 4 && p->min_len <= 12 &&
        (cfg == NULL || (cfg->flags & CL_POLICY_F_NUMERIC_PROMPTS) == 0))
        return cl_policy_i_deny(reason, CL_POLICY_R_PIN_PROMPT);
    if (cl_policy_pin_words(p->text.data, p->text.len))
        return cl_policy_i_deny(reason, CL_POLICY_R_PIN_PROMPT);
    return CL_OK;
}

/* ------------------------------------------------------------ transaction texts */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Currency words read with a number ("5 euro"), lower case. */
static const char *const money_words[] = {
    "euro", "euros", "eur", "cent", "cents", "dollar", "dollars", "usd", "pound",
    "pounds", "gbp", "franc", "francs", "chf", "yen", "jpy", "krona", "kronor", "krone",
    "kroner", "kr", "zloty", "pln", "pence",
};

/* Whether the word w[0..n) is a code of lib/txn's table (case as given,
 * or any case when any_case). */
static bool is_code(const char *w, size_t n, bool any_case)
{
    unsigned num;
    char u[3];
    size_t i;

    if (n != 3)
        return false;
    for (i = 0; i < 3; i++) {
        if (!any_case && !(w[i] >= 'A' && w[i] <= 'Z'))
            return false;
        u[i] = (char)(lower(w[i]) - 'a' + 'A');
    }
    for (num = 1; num <= 999; num++) {
        const char *a = cl_txn_currency_alpha((uint16_t)num, NULL);
        if (a != NULL && memcmp(a, u, 3) == 0)
            return true;
    }
    return false;
}

static bool is_money_word(const char *w, size_t n)
{
    size_t k, i;

    if (is_code(w, n, true))
        return true;
    for (k = 0; k < CL_ARRAY_LEN(money_words); k++) {
        const char *m = money_words[k];
        for (i = 0; i < n && m[i] != '\0' && lower(w[i]) == m[i]; i++)
            ;
        if (i == n && m[i] == '\0')
            return true;
    }
    return false;
}

/* Whether the display form s reads like an amount or a currency. */
static bool amount_like(const char *s, size_t n)
{
    bool digit = false, money = false;
    size_t i, start;

    for (i = 0; i < n; i++) {
        char c = s[i];
        if (is_digit(c))
            digit = true;
        if (c == '$')
            return true;
        if (c == '#' && i + 1 < n && is_digit(s[i + 1]))
            return true;
        if ((c == '.' || c == ',' || c == '\'') && i > 0 && i + 1 < n && is_digit(s[i - 1]) &&
            is_digit(s[i + 1]))
            return true;
    }
    for (i = 0; i < n;) {
        if (!is_letter(s[i])) {
            i++;
            continue;
        }
        start = i;
        while (i < n && is_letter(s[i]))
            i++;
        if (is_code(s + start, i - start, false))
            return true;
        if (is_money_word(s + start, i - start))
            money = true;
    }
    return digit && money;
}

/* Whether the UTF-8 text s[0..cap) (up to its NUL) holds a currency sign
 * outside ASCII: cent, pound, currency sign, yen (U+00A2..U+00A5), euro
 * (U+20AC). The repertoire refuses them already; a struct filled by hand
 * may still carry them. */
static bool currency_sign(const char *field, size_t cap)
{
    const uint8_t *s = (const uint8_t *)field;
    size_t i;

    for (i = 0; i + 1 < cap && s[i] != 0; i++) {
        if (s[i] == 0xC2u && s[i + 1] >= 0xA2u && s[i + 1] <= 0xA5u)
            return true;
        if (s[i] == 0xE2u && s[i + 1] == 0x82u && i + 2 < cap && s[i + 2] == 0xACu)
            return true;
    }
    return false;
}

static bool field_amount_like(const char *field, size_t cap)
{
    char d[2 * CL_TXN_TEXT_MAX + 1];
    size_t n = cl_policy_i_display(field, cap, d, sizeof(d));

    return currency_sign(field, cap) || amount_like(d, n);
}

/* see cardlink/policy.h */
int cl_policy_check_txn_text(const struct cl_txn *txn, uint8_t *reason)
{
    unsigned i;

    cl_policy_i_allow(reason);
    if (txn == NULL)
        return CL_ERR_ARG;
    if (field_amount_like(txn->merchant, sizeof(txn->merchant)))
        return cl_policy_i_deny(reason, CL_POLICY_R_AMOUNT_TEXT);
    for (i = 0; i < txn->n_items && i < CL_TXN_ITEMS_MAX; i++)
        if (field_amount_like(txn->items[i].desc, sizeof(txn->items[i].desc)))
            return cl_policy_i_deny(reason, CL_POLICY_R_AMOUNT_TEXT);
    return CL_OK;
}
