#!/bin/sh
# vrrp-firewall ACTION [PROTOCOL...] [PEER...]: let VRRP (IP protocol 112) and AH (51) from
# keepalived's peers through the host firewall, whichever runs: firewalld, iptables and
# ip6tables, or an nftables ruleset.
#
#   status PROTOCOL... PEER...  print "BACKEND ok" (exactly the rules wanted), "BACKEND
#                               missing" (some wanted rule is not there), "BACKEND stale"
#                               (other rules of ours are there: a former peer's) or
#                               "BACKEND missing+stale" (both); "none ok": no firewall found
#   add PROTOCOL... PEER...     insert the wanted rules that are missing, delete nothing
#   add --peers-file FILE       the same for the PROTOCOLs and PEERs in FILE, one a line
#                               (lines starting with # and empty ones skipped), each
#                               checked as an argument is: what the keepalived.service
#                               drop-in runs before each start, FILE in the live config
#                               tree (the peers of the config keepalived loads). A FILE
#                               that does not exist (a tree laid out by an earlier version
#                               of the deploy: its peers are unknown) lets VRRP and AH of
#                               both families in from anywhere: more, never fewer
#   allow ...                   as add (what the drop-in of an earlier version calls: a
#                               start never deletes a rule)
#   prune PROTOCOL... PEER...   add, then delete every other rule of ours (nftables: both
#                               in one transaction); only once the config that no longer
#                               needs them is live
#   remove                      delete every rule of ours, from every firewall
#
# PEER is FAMILY,INTERFACE,SOURCE,DESTINATION: what one rule (per protocol) accepts, e.g.
# "4,,10.0.0.2,10.0.0.1" (a unicast peer's adverts to this host's address) or
# "6,eth0,,ff02::12" (the VRRP group on an interface); an empty field is not matched on.
# `add` and `prune` without any PEER change nothing (a drop-in of an older version of this
# script calls `allow 112`: the rules in place stay until the deploy writes the new one).
#
# A rule is ours when it has exactly the form this script writes, accept included: an
# operator's `meta l4proto vrrp drop comment "keepalived-vrrp 112"` is not (it is neither
# counted nor deleted). Rules of the form of earlier versions (no peer limit, comment
# "keepalived-vrrp 112 51") are ours too, so that they are replaced.
#
# nftables: an accept in one base chain does not stop another base chain on the same hook
# from dropping the packet, so a table of our own cannot open a drop-policy input chain.
# The rules go at the top of each input base chain instead (those of the chain's family:
# an ip table gets the IPv4 ones), with the comment "keepalived-vrrp"; nothing else of
# the operator's ruleset is touched. iptables/ip6tables rules carry the comment
# "keepalived-vrrp". firewalld gets rich rules in the default zone, runtime and permanent
# (a rich rule names no interface: the VRRP group is matched in the whole zone).
#
# Nothing read from a ruleset is ever run as shell text: rules are deleted by an argument
# list that matched the exact form of ours (only letters, digits and . : / -), or by a
# handle that must be a number (nftables).
set -u
set -f  # (argument lists are split on spaces below, never globbed)
action=${1:-}
[ $# -gt 0 ] && shift
tag="keepalived-vrrp"

valid_peer() {  # FAMILY,INTERFACE,SOURCE,DESTINATION, each field checked
    case $1 in [46],*,*,*) ;; *) return 1 ;; esac
    rest=${1#?,}
    interface=${rest%%,*} rest=${rest#*,}
    source=${rest%%,*} destination=${rest#*,}
    case $interface in *[!A-Za-z0-9_.@-]*) return 1 ;; esac
    case $source$destination in *[!0-9a-f.:]*) return 1 ;; esac
}
protocols= peers=  # (each word checked: neither holds a space)
take() {  # take ARGUMENT [WHERE]: a protocol number or a peer, checked, or exit 2
    case $1 in
        "" | *[!0-9]*)
            if ! valid_peer "$1"; then
                echo "vrrp-firewall: ${2:-}neither a protocol number nor a peer" \
                     "(FAMILY,INTERFACE,SOURCE,DESTINATION): $1" >&2
                exit 2
            fi
            peers="$peers $1" ;;
        *) protocols="$protocols $1" ;;
    esac
}
if [ "${1:-}" = --peers-file ] && [ $# -eq 2 ]; then
    if [ -e "$2" ]; then
        [ -f "$2" ] && [ -r "$2" ] || { echo "vrrp-firewall: cannot read $2" >&2; exit 2; }
        n=0
        while IFS= read -r line || [ -n "$line" ]; do
            n=$((n + 1))
            case $line in "" | "#"*) continue ;; esac
            take "$line" "$2 line $n: "
        done < "$2"
    else
        echo "vrrp-firewall: $2 does not exist (a config tree laid out by an earlier" \
             "version of the deploy: its peers are unknown): VRRP and AH let in from" \
             "anywhere until the deploy's next run" >&2
        protocols=" 112 51" peers=" 4,,, 6,,,"
    fi
else
    for arg; do take "$arg"; done
fi
case $action in
    allow) action=add ;;  # (never deletes: see above)
    status | add | prune) ;;
    *) peers= protocols= ;;
esac

has() { command -v "$1" >/dev/null 2>&1; }

found() {  # found BACKEND: add it to $backends and $label
    backends="$backends $1"
    label="${label:+$label+}$1"
}

nl='
'
wanted() {  # wanted BACKEND FAMILY...: into $want, the rules (rule_line) for each protocol
    # and each peer of those address families, each once, a line each (no process started)
    backend=$1
    shift
    want=
    for peer in $peers; do
        family=${peer%%,*} rest=${peer#?,}
        interface=${rest%%,*} rest=${rest#*,}
        source=${rest%%,*} destination=${rest#*,}
        case " $* " in *" $family "*) ;; *) continue ;; esac
        for p in $protocols; do
            rule_line "$backend" "$family" "$p" "$interface" "$source" "$destination"
            case $nl$want in *"$nl$rule$nl"*) ;; *) want=$want$rule$nl ;; esac
        done
    done
}

diff_lines() {  # diff_lines A B: the lines of A that B does not hold (each line once)
    printf '%s\n' "$1" | grep -vxF -e "$(printf '%s\n' "$2")" | grep . || true
}

detect() {  # sets $backends: firewalld, or each of iptables, ip6tables and nftables that
    # filters input (each one can drop VRRP, each one must let it through: scan); $label
    # joins them with "+" ("iptables+nftables"), "" when there is none
    backends= label=
    if has firewall-cmd && systemctl is-active --quiet firewalld 2>/dev/null; then
        found firewalld
        return
    fi
    scan
    for b in iptables ip6tables nftables; do
        case $nl$scanned in *"$nl$b "*) found "$b" ;; esac
    done
}

# -- nftables --

NFT_ADDRESS='ip6? [sd]addr [0-9a-f.:]+ '
NFT_OURS="(iifname \"[A-Za-z0-9_.@-]+\" )?($NFT_ADDRESS)?($NFT_ADDRESS)?meta l4proto [0-9]+ accept comment \"$tag\"|meta l4proto ([0-9]+|\\{ [0-9, ]+ \\}) accept comment \"$tag( [0-9]+)+\""

nft_input_chains() {  # the input base chains (scan), one a line (nothing when none)
    [ -z "$chains" ] || printf '%s\n' "$chains"
}

nft_wanted() {  # into $want, the rules wanted in a table of family $1, as `nft -p list`
    # prints them
    case $1 in
        ip) wanted nftables 4 ;;
        ip6) wanted nftables 6 ;;
        inet | bridge) wanted nftables 4 6 ;;
        *) want= ;;  # (arp: none)
    esac
}

nft_rules() {  # nft_rules FAMILY TABLE CHAIN: the rules of ours in it ("RULE # handle N")
    nft -p -a list chain "$1" "$2" "$3" | sed 's/^[[:space:]]*//' \
        | grep -E -x -e "($NFT_OURS) # handle [0-9]+"
}

nft_chain_name_ok() {  # names written into `nft -f` text: plain words only
    case $1$2$3 in
        *[!A-Za-z0-9_./-]*) echo "vrrp-firewall: cannot handle nftables chain $1 $2 $3" >&2
                            return 1 ;;
    esac
}

nft_change() {  # nft_change add|prune: one `nft -f` transaction for every chain: the
    # missing rules inserted at the top and (prune) the other rules of ours deleted
    transaction=$(nft_input_chains | while read -r f t c; do
        nft_chain_name_ok "$f" "$t" "$c" || { echo "!"; continue; }
        nft_wanted "$f"
        have=$(nft_rules "$f" "$t" "$c")
        diff_lines "$want" "$(printf '%s\n' "$have" | sed 's/ # handle [0-9]*$//')" \
            | sed "s/^/insert rule $f $t $c /"
        [ "$1" = prune ] || continue
        printf '%s\n' "$have" | awk -v want="$want" -v head="delete rule $f $t $c handle " '
            BEGIN { n = split(want, lines, "\n"); for (i = 1; i <= n; i++) keep[lines[i]] = 1 }
            { handle = $NF; sub(/ # handle [0-9]+$/, "") }
            handle ~ /^[0-9]+$/ && $0 != "" && !(keep[$0]--) { print head handle }'
    done)
    case $transaction in *!*) return 1 ;; "") return 0 ;; esac
    printf '%s\n' "$transaction" | nft -f -
}

nft_remove() {  # every rule of ours, by handle (a number, never text)
    nft_input_chains | while read -r f t c; do
        nft_rules "$f" "$t" "$c" | sed -n 's/.* # handle \([0-9][0-9]*\)$/\1/p' \
            | while read -r handle; do nft delete rule "$f" "$t" "$c" handle "$handle"; done
    done
}

# -- iptables, ip6tables --

IPT_OURS="-A INPUT( -s [0-9a-f.:]+/(32|128))?( -d [0-9a-f.:]+/(32|128))?( -i [A-Za-z0-9_.@-]+)? -p [a-z0-9]+ -m comment --comment $tag -j ACCEPT"

protocol_names= names_read=
ipt_wanted() {  # into $want, the rules wanted in $1's INPUT, as `$1 -S INPUT` prints them:
    # protocols by the name getprotobynumber gives ("NUMBER=NAME" words in
    # $protocol_names, read once)
    if [ -z "$names_read" ]; then
        names_read=yes
        # shellcheck disable=SC2086
        while read -r name number _; do
            protocol_names="$protocol_names $number=$name"
        done <<EOF
$(getent protocols $protocols 2>/dev/null)
EOF
    fi
    case $1 in iptables) wanted iptables 4 ;; *) wanted iptables 6 ;; esac
}

ipt_rules() {  # the rules of ours in $1's INPUT, as it prints them
    $1 -S INPUT 2>/dev/null | grep -E -x -e "$IPT_OURS"
}

ipt_change() {  # ipt_change CMD add|prune: the missing rules inserted at the top of INPUT,
    # then (prune) the other rules of ours deleted: peers are never shut out in between
    ipt_wanted "$1"
    have=$(ipt_rules "$1")
    diff_lines "$want" "$have" | while read -r rule; do
        # shellcheck disable=SC2086  # (words of our own rule text)
        $1 -I INPUT 1 ${rule#-A INPUT } || exit 1
    done || return 1
    [ "$2" = prune ] || return 0
    printf '%s\n' "$have" | awk -v want="$want" '
        BEGIN { n = split(want, lines, "\n"); for (i = 1; i <= n; i++) keep[lines[i]] = 1 }
        $0 != "" && !(keep[$0]--)' \
        | while read -r rule; do
            # shellcheck disable=SC2086  # (a rule that matched the exact form of ours)
            $1 -D INPUT ${rule#-A INPUT } || exit 1
        done
}

ipt_remove() {  # by exact argument list: nothing read from the ruleset is run
    ipt_rules "$1" | while read -r rule; do
        # shellcheck disable=SC2086  # (a rule that matched the exact form of ours)
        $1 -D INPUT ${rule#-A INPUT }
    done
    return 0
}

# -- firewalld --

FWD_OURS="rule family=\"ipv[46]\"( source address=\"[0-9a-f.:]+\")?( destination address=\"[0-9a-f.:]+\")? protocol value=\"[0-9]+\" accept|rule protocol value=\"[0-9]+\" accept"

fwd_rules() {  # fwd_rules [--permanent]: the rich rules of ours, one a line
    firewall-cmd "$@" --list-rich-rules 2>/dev/null | grep -E -x -e "$FWD_OURS"
}

fwd_status() {  # runtime and permanent alike
    wanted firewalld 4 6
    status_of "$want" "$(fwd_rules)"
    status_of "$want" "$(fwd_rules --permanent)"
}

fwd_change() {  # fwd_change add|prune: runtime and permanent; added before any is removed
    wanted firewalld 4 6
    for store in "" --permanent; do
        diff_lines "$want" "$(fwd_rules $store)" | while read -r rule; do
            firewall-cmd -q $store "--add-rich-rule=$rule" || exit 1
        done || return 1
    done
    [ "$1" = prune ] || return 0
    for store in "" --permanent; do
        diff_lines "$(fwd_rules $store)" "$want" | while read -r rule; do
            firewall-cmd -q $store "--remove-rich-rule=$rule" || exit 1
        done || return 1
    done
}

fwd_remove() {
    for store in "" --permanent; do
        fwd_rules $store | while read -r rule; do
            firewall-cmd -q $store "--remove-rich-rule=$rule"
        done
    done
    return 0
}

# -- every backend --

q='"'
rule_line() {  # rule_line BACKEND FAMILY PROTOCOL INTERFACE SOURCE DESTINATION: into
    # $rule, one rule as the backend prints it (its order and spelling), so that it is
    # found as it is (no process started)
    family=$2 p=$3 interface=$4 source=$5 destination=$6
    case $1 in
        nftables)  # `nft -p list` (protocols as numbers)
            ip=ip
            [ "$family" = 6 ] && ip=ip6
            rule="${interface:+iifname $q$interface$q }${source:+$ip saddr $source }"
            rule="$rule${destination:+$ip daddr $destination }meta l4proto $p accept"
            rule="$rule comment $q$tag$q" ;;
        iptables)  # `iptables -S`: -s -d -i -p, hosts as /32 or /128, the protocol's name
            bits=32
            [ "$family" = 6 ] && bits=128
            name=$p
            for entry in $protocol_names; do
                case $entry in "$p="*) name=${entry#*=} ;; esac
            done
            rule="-A INPUT${source:+ -s $source/$bits}${destination:+ -d $destination/$bits}"
            rule="$rule${interface:+ -i $interface} -p ${name:-$p} -m comment --comment $tag"
            rule="$rule -j ACCEPT" ;;
        firewalld)  # `firewall-cmd --list-rich-rules`
            rule="rule family=${q}ipv$family$q${source:+ source address=$q$source$q}"
            rule="$rule${destination:+ destination address=$q$destination$q}"
            rule="$rule protocol value=$q$p$q accept" ;;
    esac
}

# The status of rule sets, in one awk. Its input is sections, each from a line "@@KIND
# ARG...": "@@want SET" the rules wanted in SET; "@@rules UNIT SET..." the rules of ours
# in UNIT, whose wanted rules are those of the SETs; "@@nft" an `nft -t -p list ruleset`:
# a unit for each base chain on the input hook ("chain FAMILY TABLE CHAIN" printed for
# each), but iptables-nft's own (ip/ip6 filter INPUT: those are the iptables backend's),
# its rules of ours those whole lines that match NFT_OURS (sets nft4, nft6 by the table's
# family); "@@ipt BACKEND SET" a `BACKEND -S INPUT`: a unit when it filters input (a line
# other than an ACCEPT policy and ours), its rules of ours the lines that match IPT_OURS.
# Prints "UNIT STATUS" for each unit: ok, missing (a wanted rule is not there), stale (a
# rule of ours that is not wanted, or a wanted one twice) or missing+stale.
STATUS_AWK='
function unit(name, sets) { units[++n] = name; unit_sets[name] = sets }
function add(name, rule,   i, k, set) {
    if (count[name, rule]++) { stale[name] = 1; return }
    k = split(unit_sets[name], set, " ")
    for (i = 1; i <= k; i++) if ((set[i], rule) in wanted) return
    stale[name] = 1
}
/^@@/ { kind = $1; name = $2; if (kind == "@@rules") unit(name, substr($0, length($1 $2) + 3))
        if (kind == "@@ipt") ipt_set = $3; chain = ""; next }
$0 == "" { next }
kind == "@@want" { wanted[name, $0] = 1; rules[name, ++size[name]] = $0; next }
kind == "@@rules" { add(name, $0); next }
kind == "@@ipt" {
    if ($0 == "-P INPUT ACCEPT") next
    if (!(name in unit_sets)) unit(name, ipt_set)
    if ($0 ~ ("^(" ENVIRON["IPT_OURS"] ")$")) add(name, $0); else filters[name] = 1
    next }
kind != "@@nft" { next }
$1 == "table" { family = $2; table = $3; chain = ""; next }
$1 == "chain" { chain = $2; base = ""; next }
$NF == "{" { chain = ""; next }  # a set, map, flowtable...: no rules in it
chain == "" { next }
$1 == "type" && $3 == "hook" && $4 == "input" && \
        !(table == "filter" && chain == "INPUT" && (family == "ip" || family == "ip6")) {
    base = family " " table " " chain
    print "chain", base
    unit("nftables:" base, family == "ip" ? "nft4" : family == "ip6" ? "nft6" : \
         family == "inet" || family == "bridge" ? "nft4 nft6" : "")
    if ((family table chain) ~ /[^A-Za-z0-9_.\/-]/) unusable["nftables:" base] = 1
    next }
base != "" { sub(/^[ \t]+/, "")
             if ($0 ~ ("^(" ENVIRON["NFT_OURS"] ")$")) add("nftables:" base, $0) }
END {
    for (u = 1; u <= n; u++) {
        name = units[u]
        if (name ~ /^ip6?tables$/ && !filters[name]) continue
        missing = unusable[name]
        k = split(unit_sets[name], sets, " ")
        for (i = 1; i <= k; i++)
            for (j = 1; j <= size[sets[i]]; j++)
                if (!((name, rules[sets[i], j]) in count)) missing = 1
        print name, missing ? (stale[name] ? "missing+stale" : "missing") : \
                    (stale[name] ? "stale" : "ok")
    }
}'

status_of() {  # status_of WANTED HAVE: ok, missing, stale or missing+stale (STATUS_AWK)
    line=$(awk "$STATUS_AWK" <<EOF
@@want set
$1
@@rules unit set
$2
EOF
)
    echo "${line#unit }"
}

chains= scanned=
scan() {  # every firewall but firewalld, read once: into $chains the nftables input base
    # chains ("FAMILY TABLE CHAIN" a line), into $scanned "BACKEND STATUS" for each of
    # iptables, ip6tables, nftables that filters input (status_of's words; nftables: of all
    # its input chains). Processes: nft, iptables, ip6tables (each where installed),
    # getent (where iptables filters) and one awk (rules are never matched by a
    # process of their own: the one awk does it)
    nft_listing= ipt4= ipt6= want_ipt4= want_ipt6= nft_words=
    if has nft; then  # (-t: without the elements of sets; an nft without -t: all of it)
        nft_listing=$(nft -t -p list ruleset 2>/dev/null) ||
            nft_listing=$(nft -p list ruleset 2>/dev/null)
    fi
    if has iptables; then ipt4=$(iptables -S INPUT 2>/dev/null); fi
    if has ip6tables; then ipt6=$(ip6tables -S INPUT 2>/dev/null); fi
    case $ipt4$nl$ipt6 in
        *-A\ * | *-P\ INPUT\ [!A]*)
            ipt_wanted iptables; want_ipt4=$want
            ipt_wanted ip6tables; want_ipt6=$want ;;
    esac
    wanted nftables 4; want_nft4=$want
    wanted nftables 6
    scanned=$(NFT_OURS=$NFT_OURS IPT_OURS=$IPT_OURS awk "$STATUS_AWK" <<EOF
@@want nft4
$want_nft4
@@want nft6
$want
@@want ipt4
$want_ipt4
@@want ipt6
$want_ipt6
@@ipt iptables ipt4
$ipt4
@@ipt ip6tables ipt6
$ipt6
@@nft
$nft_listing
EOF
)
    chains= rest=$scanned scanned=
    while [ -n "$rest" ]; do
        line=${rest%%"$nl"*}
        case $rest in *"$nl"*) rest=${rest#*"$nl"} ;; *) rest= ;; esac
        case $line in
            "chain "*) chains=$chains${chains:+$nl}${line#chain } ;;
            nftables:*) nft_words="$nft_words ${line##* }" ;;
            *) scanned=$scanned$line$nl ;;
        esac
    done
    if [ -n "$chains" ]; then
        # shellcheck disable=SC2086
        combined $nft_words
        scanned="${scanned}nftables $all$nl"
    fi
}

combined() {  # combined STATUS...: into $all, all of them together: missing, stale,
    # missing+stale or ok
    case " $* " in
        *missing*stale* | *stale*missing*) all=missing+stale ;;
        *missing*) all=missing ;;
        *stale*) all=stale ;;
        *) all=ok ;;
    esac
}

status() {  # status BACKEND...: the status of them all (combined)
    words=
    for b; do
        case $b in
            firewalld) words="$words $(fwd_status)" ;;
            *) line=$nl$scanned
               line=${line#*"$nl$b "}
               words="$words ${line%%"$nl"*}" ;;
        esac
    done
    # shellcheck disable=SC2086
    combined $words
    echo "$all"
}

case $action in
    status)
        detect
        printf '%s ' "${label:-none}"
        # shellcheck disable=SC2086
        status $backends
        ;;
    add | prune)
        if [ -z "$peers" ]; then
            echo "vrrp-firewall: no peer given: the rules in place stay as they are" >&2
            exit 0
        fi
        detect
        for b in $backends; do
            [ "$(status "$b")" = ok ] && continue
            case $b in
                nftables) nft_change "$action" ;;
                iptables | ip6tables) ipt_change "$b" "$action" ;;
                firewalld) fwd_change "$action" ;;
            esac || exit 1
        done
        ;;
    remove)
        scan
        nft_remove
        for cmd in iptables ip6tables; do
            if has "$cmd"; then ipt_remove "$cmd"; fi
        done
        if has firewall-cmd && systemctl is-active --quiet firewalld 2>/dev/null; then
            fwd_remove
        fi
        true
        ;;
    *)
        echo "usage: vrrp-firewall status|add|prune|remove [PROTOCOL...] [PEER...]" >&2
        exit 2
        ;;
esac
