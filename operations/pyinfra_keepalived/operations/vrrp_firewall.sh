#!/bin/sh
# vrrp-firewall ACTION [PROTOCOL...]: let VRRP (IP protocol 112) and AH (51) through the
# host firewall, whichever runs: firewalld, iptables, or an nftables ruleset.
#
#   status 112 [51]  print "BACKEND ok" or "BACKEND missing" ("none ok": no firewall found)
#   allow 112 [51]   make the active firewall accept those protocols (no-op when it does)
#   remove           delete every rule this script added, from every firewall
#
# nftables: an accept in one base chain does not stop another base chain on the same hook
# from dropping the packet, so a table of our own cannot open a drop-policy input chain.
# The rule goes at the top of each input base chain instead, tagged with the comment
# "keepalived-vrrp 112 51" so that it can be found, checked and removed; nothing else of
# the operator's ruleset is touched. iptables rules carry the comment "keepalived-vrrp".
# firewalld gets rich rules in the default zone, runtime and permanent.
#
# Nothing read from a ruleset is ever run as shell text: rules are deleted by their exact
# argument list (iptables) or by a handle that must be a number (nftables), and only the
# rules of exactly this form count as ours (a comment of someone else's that holds our tag,
# or shell syntax, is left alone).
set -u
action=${1:-}
[ $# -gt 0 ] && shift
protocols="$*"
tag="keepalived-vrrp"
ours="112 51"  # every protocol this script ever opens (remove takes them all out)
for p in $protocols; do
    case $p in
        *[!0-9]*) echo "vrrp-firewall: protocol must be a number: $p" >&2; exit 2 ;;
    esac
done

has() { command -v "$1" >/dev/null 2>&1; }

found() {  # found BACKEND: add it to $backends and $label
    backends="$backends $1"
    label="${label:+$label+}$1"
}

detect() {  # sets $backends: firewalld, or each of iptables and nftables that filters
    # input (both: each one can drop VRRP, each one must let it through); $label joins
    # them with "+" ("iptables+nftables"), "" when there is none
    backends= label=
    if has firewall-cmd && systemctl is-active --quiet firewalld 2>/dev/null; then
        found firewalld
        return
    fi
    read_chains
    if has iptables && iptables -S INPUT 2>/dev/null \
            | grep -v -e '^-P INPUT ACCEPT$' -e "$tag" | grep -q .; then
        found iptables
    fi
    if [ -n "$chains" ]; then
        found nftables
    fi
}

# -- nftables --

nft_read_chains() {  # "family table chain" of every base chain on the input hook,
    # except iptables-nft's own (ip/ip6 filter INPUT): those are the iptables backend's.
    # Read once, into $chains (read_chains): nft and awk are most of what `status` costs,
    # and awk only runs when some chain hooks input at all.
    listing=$(nft list chains 2>/dev/null)
    case $listing in *"hook input"*) ;; *) return 0 ;; esac
    printf '%s\n' "$listing" | awk '$1 == "table" { f = $2; t = $3 }
        $1 == "chain" { c = $2 }
        /hook input/ && !(t == "filter" && c == "INPUT" && (f == "ip" || f == "ip6")) {
            print f, t, c }'
}

nft_input_chains() {  # the chains read at the start, one a line (nothing when none)
    [ -z "$chains" ] || printf '%s\n' "$chains"
}

nft_ok() {  # each input chain holds exactly one rule of ours, for these protocols
    ! nft_input_chains | while read -r f t c; do
        rules=$(nft list chain "$f" "$t" "$c" | grep -e " comment \"$tag[0-9 ]*\"\$")
        [ "$(printf '%s\n' "$rules" | grep -c .)" = 1 ] \
            && printf '%s\n' "$rules" | grep -qF "comment \"$tag $protocols\"" || echo missing
    done | grep -q missing
}

nft_remove() {  # rules whose comment is exactly ours, by handle (a number, never text)
    nft_input_chains | while read -r f t c; do
        nft -a list chain "$f" "$t" "$c" \
            | sed -n "s/.* comment \"$tag[0-9 ]*\" # handle \([0-9][0-9]*\)\$/\1/p" \
            | while read -r handle; do nft delete rule "$f" "$t" "$c" handle "$handle"; done
    done
}

nft_allow() {
    set_=$(echo "$protocols" | sed 's/ /, /g')
    nft_input_chains | while read -r f t c; do
        nft insert rule "$f" "$t" "$c" meta l4proto "{ $set_ }" accept \
            comment "\"$tag $protocols\"" || exit 1
    done
}

# -- iptables --

ipt_rule() {  # ipt_rule -C|-D|-I... PROTOCOL: the rule this script adds, exactly
    action_=$1 p=$2
    shift 2
    iptables "$action_" INPUT "$@" -p "$p" -m comment --comment "$tag" -j ACCEPT
}

ipt_ok() {  # each protocol's rule is there, and no other rule of exactly our form
    for p in $protocols; do
        ipt_rule -C "$p" 2>/dev/null || return 1
    done
    count=$(iptables -S INPUT | grep -cx -- "-A INPUT -p [^ ]* -m comment --comment $tag -j ACCEPT")
    [ "$count" = "$(printf '%s\n' $protocols | grep -c .)" ]
}

ipt_remove() {  # by exact argument list: nothing read from the ruleset is run
    for p in $ours; do
        while ipt_rule -D "$p" 2>/dev/null; do :; done
    done
    return 0
}

ipt_allow() {  # at the top of INPUT, in the order given
    position=1
    for p in $protocols; do
        ipt_rule -I "$p" "$position" || return 1
        position=$((position + 1))
    done
}

# -- firewalld --

fwd() {  # fwd query|add|remove PROTOCOL: the rich rule, runtime and permanent
    rule="rule protocol value=\"$2\" accept"
    firewall-cmd -q "--$1-rich-rule=$rule"
    runtime=$?
    firewall-cmd -q --permanent "--$1-rich-rule=$rule" && [ "$runtime" = 0 ]
}

fwd_ok() {
    for p in $protocols; do fwd query "$p" || return 1; done
}

fwd_remove() {
    for p in $ours; do fwd remove "$p" 2>/dev/null; done
    return 0
}

fwd_allow() {
    for p in $protocols; do fwd add "$p" || return 1; done
}

ok() {  # ok BACKEND...
    for b in "$@"; do
        case $b in
            nftables) nft_ok ;;
            iptables) ipt_ok ;;
            firewalld) fwd_ok ;;
        esac || return 1
    done
}

chains=
read_chains() {  # into $chains, once (firewalld's own chains are not read)
    if has nft; then
        chains=$(nft_read_chains)
    fi
}

case $action in
    status)
        detect
        if ok $backends; then echo "${label:-none} ok"; else echo "$label missing"; fi
        ;;
    allow)
        detect
        for b in $backends; do
            ok "$b" && continue
            case $b in
                nftables) nft_remove && nft_allow ;;
                iptables) ipt_remove && ipt_allow ;;
                firewalld) fwd_allow ;;
            esac || exit 1
        done
        ;;
    remove)
        read_chains
        nft_remove
        if has iptables; then ipt_remove; fi
        if has firewall-cmd && systemctl is-active --quiet firewalld 2>/dev/null; then
            fwd_remove
        fi
        true
        ;;
    *)
        echo "usage: vrrp-firewall status|allow|remove [PROTOCOL...]" >&2
        exit 2
        ;;
esac
