#!/bin/sh
# cardlink — per-module text/data/bss of a cross-built libcardlink.a, and the
# freestanding check: the core may call nothing outside itself but the mem*
# functions and the compiler's own 32-bit helpers (no 64-bit division).
# Usage: size-report.sh BUILD_DIR PREFIX (e.g. build/m0plus arm-none-eabi-)
set -eu
dir=$1; prefix=$2
lib="$dir/lib/libcardlink.a"

# The card side (lib/sim, lib/applet, the fault injector) is its own
# library: reported after the core, not counted in it.
for l in "$lib" "$dir/lib/libcardlink-card.a"; do
[ -f "$l" ] || continue
echo "== $(basename "$dir"): $l"
"${prefix}size" -t "$l" | awk '
    NR == 1 { next }
    /\(TOTALS\)/ { tt = $1; td = $2; tb = $3; next }
    {
        obj = $6; sub(/^.*\//, "", obj)
        mod = obj; sub(/_.*/, "", mod)
        t[mod] += $1; d[mod] += $2; b[mod] += $3
        if (!(mod in seen)) { seen[mod] = 1; order[n++] = mod }
    }
    END {
        printf "  %-10s %7s %6s %6s\n", "module", "text", "data", "bss"
        for (i = 0; i < n; i++)
            printf "  %-10s %7d %6d %6d\n", order[i], t[order[i]], d[order[i]], b[order[i]]
        printf "  %-10s %7d %6d %6d\n", "total", tt, td, tb
    }'
done

defined=$("${prefix}nm" --defined-only "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u)
bad=""
for sym in $("${prefix}nm" -u "$lib" | awk 'NF >= 2 && $1 == "U" { print $2 }' | sort -u); do
    case "$sym" in
    memcpy|memset|memcmp|memmove|__aeabi_mem*|__aeabi_uidiv|__aeabi_uidivmod|__aeabi_idiv|__aeabi_idivmod|__gnu_thumb1_case_*|__aeabi_llsl|__aeabi_llsr|__aeabi_lmul)
        continue ;;
    esac
    echo "$defined" | grep -qx "$sym" && continue
    bad="$bad $sym"
done
if [ -n "$bad" ]; then
    echo "  FAIL: the core calls outside itself:$bad" >&2
    exit 1
fi
echo "  freestanding: no calls outside the core but mem* and 32-bit libgcc helpers"
