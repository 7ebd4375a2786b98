#!/bin/sh
# cardlink — the demo, from a fresh Debian 12 machine (as root):  sh examples/demo.sh
#
# 1. cardlink-tool reads real ATRs (from pcsc-tools' list of thousands of
#    cards) the way a card engineer does, parses command APDUs and explains
#    status words;
# 2. a simulated payment card: the test PKI, a personalised card image, the
#    virtual card (cardlink-vcard) on a pseudo-terminal, and cardlink-tool as
#    the reader: ATR, PPS, T=1, PIN, a signature over a transaction digest,
#    the card's certificate read back and checked by openssl.
# 3. end to end: a server (cardlink-server), a virtual card and a device
#    (cardlink-device) with a scripted holder, over TLS on loopback: a
#    purchase, an authentication with the PIN, a purse payment, a load, an
#    e-ticket loaded then validated offline (once: the second time it is
#    refused), a relay script and a declined purchase, showing what
#    the holder sees and what the server decides.
set -eu
cd "$(dirname "$0")/.."
demo_usage() {
    echo "usage: sh examples/demo.sh [--help | --version]"
}
case "${1:-}" in
    "") ;;
    --help|-h)
        demo_usage
        echo
        echo "Installs what it needs on Debian 12 (as root; the packages of the README's"
        echo "PC/SC tour too), builds cardlink in build/demo and runs the tour: ATRs,"
        echo "APDUs, status words, the device policy, and a simulated payment card on a"
        echo "virtual card line whose signature openssl checks. Exit status 0: done."
        exit 0 ;;
    --version)
        echo "cardlink demo $(sed -n "s/^  version : '\(.*\)',\$/\1/p" meson.build)"
        exit 0 ;;
    *)
        demo_usage >&2
        exit 2 ;;
esac
. tests/scripts/deps.sh
cl_need meson ninja-build pkg-config gcc libc6-dev libmbedtls-dev libserialport-dev openssl python3 \
    libpcsclite-dev pcscd vsmartcard-vpcd opensc libssl-dev libsqlite3-dev

cl_setup build/demo -Dtests=disabled -Dfuzz=disabled
ninja -C build/demo >/dev/null
tool=build/demo/examples/cardlink-tool

say() { printf '\n\033[1m$ cardlink-tool %s\033[0m\n' "$*"; }
run() { say "$@"; "$tool" "$@" || true; }

echo "== ATRs of real cards =="
# Negotiable mode, T=0 and T=1, T=15 class indicator, category-00 historical bytes
run atr "3B DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 C7 FC 10 00 01 90 00 74"
# Inverse convention (TS 3F), T=0 and T=1, TA1 = 18 (Fi 372, Di 12)
run atr "3F 96 18 80 01 80 51 00 61 10 30 9F"
# Specific mode: TA2 present, T=1 only
run atr "3B 90 96 91 81 B1 FE 55 1F C7 D4"
# The shortest kind: T=0 only, no interface bytes beyond T0
run atr "3B 02 14 50"
# The same decode as one JSON object, for scripts
run atr --json "3B 9C 13 11 81 64 72 65 61 6D 63 72 79 70 74 00 04 08"
# A corrupted ATR: the TCK no longer matches (exit status 1)
run atr "3B DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 C7 FC 10 00 01 90 00 75"

echo
echo "== Command APDUs (ISO 7816-4 cases) =="
run apdu "00 A4 04 00 07 A0 00 00 00 04 10 10 00"   # SELECT by AID, case 4S
run apdu "00 B0 00 00 00 01 00"                     # READ BINARY, case 2E, Le 256
run apdu "00 84 00 00 08"                           # GET CHALLENGE, case 2S
run apdu "00 20 00 81 08 24 12 34 FF FF FF FF FF"   # VERIFY (PIN block), case 3S

echo
echo "== Status words =="
for sw in 9000 6110 6C08 63C2 6983 6A82 6D00; do
    run sw $sw
done

echo
echo "== The device's policy (lib/policy): what a hostile server may not relay =="
# INTERNAL AUTHENTICATE over bytes the server chose: a signing oracle
run policy "00 88 00 00 08 C4 5D 19 7A 0B E2 68 F3 00"
# a DEBIT after the holder typed the PIN for something else
run policy --after-pin "80 54 00 00 28 00 00 27 0F 00 00 00 00 $(printf '%s ' $(seq 1 32 | sed 's/.*/AB/'))"
# a chained VERIFY (the PIN would follow under another header)
run policy "10 20 00 80"
# asking for the PIN's retry counter is fine
run policy "00 20 00 80"

echo
echo "== A simulated payment card on a virtual card line =="
work=$(mktemp -d)
trap 'kill $vcard 2>/dev/null; rm -rf "$work"' EXIT
ex=build/demo/examples
"$ex/cardlink-pki" testpki "$work" >/dev/null
"$ex/cardlink-perso" --out "$work/card.img" --card-key "$work/card.key.der" \
    --card-cert "$work/card.der" --sign-key "$work/card-sign.key.der" \
    --sign-cert "$work/card-sign.der" --issuer-cert "$work/issuer.der" \
    --root-cert "$work/root.der" --issuer-pub "$work/issuer.der" --balance 5000 >/dev/null
"$ex/cardlink-perso" --show "$work/card.img"
"$ex/cardlink-vcard" --line pty --atr t1 --applet "$work/card.img" -q >"$work/line" &
vcard=$!
while [ ! -s "$work/line" ]; do sleep 0.1; done
spec="vline:$(sed -n 's/^line //p' "$work/line")"
digest=$(printf 'EUR 12.50 to Demo Shop' | sha256sum | cut -c1-64)
cat >"$work/dialogue" <<EOS
# select the payment applet, read the purse
00 A4 04 00 07 F0 43 4C 50 41 59 01          => 9000
80 5C 00 00 00                               => 9000
# the holder's PIN 1234 (ISO 9564 format 2), typed on the device
00 20 00 80 08 24 12 34 FF FF FF FF FF       => 9000
# PSO: COMPUTE DIGITAL SIGNATURE over the transaction digest (signing key)
00 2A 9E 9A 20 $digest 00                    => 9000
# a second signature needs the PIN again
00 2A 9E 9A 20 $digest 00                    => 6982
EOS
say --reader "$spec" -v script dialogue
"$ex/cardlink-tool" --reader "$spec" -v script "$work/dialogue" | tee "$work/out" || true
sig=$(awk '/^> 00 2A/ { f = 1; next } f && /^< / { print; exit }' "$work/out" |
    sed 's/^< //; s/ 90 00$//; s/ //g')
unhex() { python3 -c "import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))" "$1"; }
unhex "$sig" >"$work/sig"
unhex "$digest" >"$work/digest"
openssl x509 -in "$work/card-sign.pem" -pubkey -noout >"$work/pub.pem"
printf '\n\033[1m$ openssl pkeyutl -verify (the card signature, checked by openssl with the signing certificate)\033[0m\n'
openssl pkeyutl -verify -pubin -inkey "$work/pub.pem" -in "$work/digest" -sigfile "$work/sig"
openssl verify -purpose smimesign -CAfile "$work/root.pem" -untrusted "$work/issuer.pem" "$work/card-sign.pem"

echo
echo "== End to end: server, card and device with a scripted holder, TLS on loopback =="
if [ ! -x "$ex/cardlink-server" ] || [ ! -x "$ex/cardlink-device" ]; then
    echo "(cardlink-server or cardlink-device not built: OpenSSL, SQLite or mbedtls missing)"
    exit 0
fi
e2e="$work/e2e"
mkdir -p "$e2e"
vcard2=
srv=
trap 'kill $vcard $vcard2 $srv 2>/dev/null; rm -rf "$work"' EXIT
# a fresh card (PIN 1234, purse EUR 50.00) on a TCP card line
"$ex/cardlink-perso" --out "$e2e/card.img" --card-key "$work/card.key.der" \
    --card-cert "$work/card.der" --sign-key "$work/card-sign.key.der" \
    --sign-cert "$work/card-sign.der" --issuer-cert "$work/issuer.der" \
    --root-cert "$work/root.der" --issuer-pub "$work/issuer.der" --balance 5000 >/dev/null
"$ex/cardlink-vcard" --line tcp:127.0.0.1:0 --applet "$e2e/card.img" -q >"$e2e/line" &
vcard2=$!
while [ ! -s "$e2e/line" ]; do sleep 0.1; done
card="vline:$(sed -n 's/^line //p' "$e2e/line")"
balance() { "$ex/cardlink-perso" --show "$e2e/card.img" | sed -n 's/^balance *\([0-9]*\).*/\1/p'; }
# approve a two-page transaction: read page 1, page down, Confirm, the PIN
approve='wait-screen TXN 1/2
page-down
wait-screen TXN 2/2
confirm
wait-screen PIN
pin 1234
'
# e2e TITLE FLOWS HOLDER-SCRIPT [SERVER-OPTION]: one server (--once), one device connection
e2e() {
    printf '\n\033[1m-- %s (server --flows %s)\033[0m\n' "$1" "$2"
    printf '%s' "$3" >"$e2e/holder"
    : >"$e2e/server.out"
    "$ex/cardlink-server" --listen 127.0.0.1:0 --pki "$work" --db "$e2e/ledger.db" \
        --flows "$2" --once ${4:-} >"$e2e/server.out" 2>&1 &
    srv=$!
    while ! grep -q 'listening on' "$e2e/server.out"; do
        kill -0 $srv 2>/dev/null || { cat "$e2e/server.out"; exit 1; }
        sleep 0.05
    done
    port=$(sed -n 's/.*listening on [^ ]* port \([0-9]*\).*/\1/p' "$e2e/server.out")
    "$ex/cardlink-device" --card "$card" --server "127.0.0.1:$port" --pki "$work" \
        --store "$e2e/store" --ui "script:$e2e/holder" --actuator "$e2e/door" \
        >"$e2e/device.out" 2>&1 || true
    wait $srv || true
    srv=
    # what the holder sees and does, what the device and the server decide
    grep -E '^holder:|^device: (holder|the holder|the card|transaction record|policy|TLS up|ACTION)' \
        "$e2e/device.out" || true
    grep -E '^server: (purchase|purse|load|authentication|e-goods|gate|relay|device .*card inserted)' \
        "$e2e/server.out" || true
}
t0=$(date +%s)
echo "card purse before: $(balance)"
e2e "A purchase: the holder reads both pages, confirms, types the PIN" purchase:1 \
    "${approve}wait-screen MESSAGE
end
"
e2e "Authentication with the PIN: the card signs the server's challenge, the PIN stays on the device" \
    auth:pin "${approve}wait-screen MESSAGE
end
"
e2e "Gate: after an authentication the server authorises one action (the door), signed with its gate key; the same authorisation sent again is refused" \
    auth,gate:1 "wait-screen TXN 1/2
page-down
wait-screen TXN 2/2
confirm
wait-screen MESSAGE
wait-screen MESSAGE
wait-screen MESSAGE
end
" --gate-replay
echo "door actuator file: $(cat "$e2e/door" 2>/dev/null | tr '\n' ' ')(one line: the action happened once)"
e2e "A purse payment of EUR 1.50 from the card's stored value" purse:1.50 \
    "${approve}wait-screen MESSAGE
end
"
e2e "A load of EUR 10.00, signed by the card issuer's key" load:10.00 "end
"
ticket=$(printf 'TICKET-0001 BUS ZONE A-C' | od -An -tx1 | tr -d ' \n')
e2e "An e-ticket (\"TICKET-0001 BUS ZONE A-C\") loaded onto the card, signed by the card issuer's key" \
    "egoods:$ticket" "end
"
# validate: the device as a transport validator, no server: the issuer's
# signature checked on the device, the ticket used once
validate() {
    printf '\n\033[1m$ cardlink-device --validate --card %s --pki DIR (%s)\033[0m\n' "$card" "$1"
    if "$ex/cardlink-device" --validate --card "$card" --pki "$work" --id GATE-7 >"$e2e/validate.out" 2>&1
    then rc=0; else rc=$?; fi
    grep '^validator:' "$e2e/validate.out" || cat "$e2e/validate.out"
    echo "exit status $rc"
}
validate "offline, at the gate: the issuer's signature checked, the ticket used"
validate "the same card again: refused"
cat >"$e2e/relay.script" <<EOS
# the server's own card dialogue: SELECT the cardlink applet, GET BALANCE
00 A4 04 00 07 F0 43 4C 50 41 59 01  sw=9000
80 5C 00 00 00                       sw=9000
EOS
e2e "A relay script run by the server on the card (SELECT the applet, GET BALANCE), each status word checked" \
    "relay:$e2e/relay.script" "end
"
e2e "A purchase the holder declines (Cancel)" purchase:1 "wait-screen TXN 1/2
cancel
end
"
printf '\n\033[1m$ cardlink-server --db ledger.db txns\033[0m\n'
"$ex/cardlink-server" --db "$e2e/ledger.db" txns
echo "card purse after: $(balance) (5000 - 150 + 1000)"
echo "end to end in $(( $(date +%s) - t0 )) s"
