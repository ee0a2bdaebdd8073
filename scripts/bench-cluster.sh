#!/usr/bin/env bash
#
# bench-cluster.sh - the same chat-bench load on one chatd alone, on one
# node of a cluster through NATS JetStream, and on several nodes with
# the clients dealt over them (chat-bench --port P1,P2,...); alternating,
# on this machine, in one run; prints the medians side by side.
#
# Usage: scripts/bench-cluster.sh [--nodes N] [--runs N] [--out FILE]
#                                 [--chatd PATH] [--chat-bench PATH]
#                                 [-- CHAT-BENCH OPTIONS...]
#
#   --nodes N         nodes of the cluster in the last column (default 3)
#   --runs N          runs of each (default 3)
#   --out FILE        also write the table as markdown to FILE
#   --chatd PATH      chatd binary (default: $CHATD, else build/src/chatd,
#                     else src/chatd, relative to the repository root)
#   --chat-bench PATH chat-bench binary (default: $CHAT_BENCH, likewise)
#   -h, --help        print this help
#
# What follows -- goes to chat-bench as it is (default: -n 30 -s 6
# --window 64 -d 5, a room of 30 with 6 senders, closed loop).  Each run
# gets fresh servers: chatd --rate 0 on port 0; the cluster's nodes
# --cluster on one nats-server -js, on a free loopback port with a
# scratch store, started for the run.  Every node, NATS and chat-bench
# share this machine's cores: the columns show what the stream costs a
# line, not how a cluster of machines scales.  The table gives the
# median of the runs: deliveries per second, p50 and p99 latency, the
# time to connect every client (with --cluster, each guest name is
# claimed in NATS), and lost lines (any loss also fails the run).
#
# Everything it starts it stops by PID.  Exit status: 0 if every run
# completed without loss, 1 if not, 2 on a usage error.

set -u

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"

die() {
	echo "bench-cluster.sh: $*" >&2
	exit 1
}

nodes=3
runs=3
out=
chatd_bin=$(find_binary "${CHATD:-}" chatd)
bench_bin=$(find_binary "${CHAT_BENCH:-}" chat-bench)
bench_opts=(-n 30 -s 6 --window 64 -d 5)

while [ $# -gt 0 ]; do
	case $1 in
	--nodes) [ $# -ge 2 ] || die_usage "--nodes needs a number"
		nodes=$2; shift ;;
	--runs) [ $# -ge 2 ] || die_usage "--runs needs a number"
		runs=$2; shift ;;
	--out) [ $# -ge 2 ] || die_usage "--out needs a file"
		out=$2; shift ;;
	--chatd) [ $# -ge 2 ] || die_usage "--chatd needs a path"
		chatd_bin=$2; shift ;;
	--chat-bench) [ $# -ge 2 ] || die_usage "--chat-bench needs a path"
		bench_bin=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; bench_opts=("$@"); break ;;
	*) die_usage "unknown option '$1'" ;;
	esac
	shift
done
case $nodes in ''|*[!0-9]*) die_usage "--nodes: '$nodes' is not a number" ;; esac
case $runs in ''|*[!0-9]*) die_usage "--runs: '$runs' is not a number" ;; esac
[ "$nodes" -ge 1 ] && [ "$nodes" -le 16 ] ||
    die_usage "--nodes: from 1 to 16, not $nodes"
[ "$runs" -ge 1 ] || die_usage "--runs: at least 1"
[ -x "$chatd_bin" ] || die "no chatd at $chatd_bin (build first)"
[ -x "$bench_bin" ] || die "no chat-bench at $bench_bin (build first)"
nats_bin=$(command -v nats-server) ||
    die "no nats-server: apt-get install nats-server"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-cluster.XXXXXX") || die "mktemp"
pids=()
nats_pid=

cleanup() {
	stop_pids "${pids[@]}" "$nats_pid"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

nats_up() {
	local p
	p=$(free_port) || die "no free port for nats-server"
	rm -rf "$tmp/nats"
	"$nats_bin" -js -a 127.0.0.1 -p "$p" -sd "$tmp/nats" \
	    >"$tmp/nats.log" 2>&1 &
	nats_pid=$!
	wait_for 100 grep -q "Server is ready" "$tmp/nats.log" ||
	    die "nats-server did not start: $(tail -n 3 "$tmp/nats.log")"
	nats_url=nats://127.0.0.1:$p
}

# start_nodes N [CLUSTER]: N chatd on port 0; their ports in $ports.
start_nodes() {
	local n=$1 i p
	shift
	ports=
	for ((i = 0; i < n; i++)); do
		if [ $# -gt 0 ]; then
			"$chatd_bin" --port 0 --bind 127.0.0.1 --irc-port 0 \
			    --rate 0 --cluster "$nats_url" --node-name "n$i" \
			    >"$tmp/node$i.log" 2>&1 &
		else
			"$chatd_bin" --port 0 --bind 127.0.0.1 --irc-port 0 \
			    --rate 0 >"$tmp/node$i.log" 2>&1 &
		fi
		pids+=("$!")
		wait_for 100 listening_port "$tmp/node$i.log" >/dev/null ||
		    die "chatd did not start: $(tail -n 3 "$tmp/node$i.log")"
		p=$(listening_port "$tmp/node$i.log")
		ports=${ports:+$ports,}$p
	done
}

stop_all() {
	stop_pids "${pids[@]}" "$nats_pid"
	pids=()
	nats_pid=
}

declare -A dps=() p50=() p99=() lost=() conn=()
kinds=(alone node1 "nodes$nodes")
bad=0

for ((run = 1; run <= runs; run++)); do
	for kind in "${kinds[@]}"; do
		case $kind in
		alone) start_nodes 1 ;;
		node1) nats_up; start_nodes 1 cluster ;;
		*) nats_up; start_nodes "$nodes" cluster ;;
		esac
		json=$tmp/$kind.$run.json
		timeout 300 "$bench_bin" -p "$ports" "${bench_opts[@]}" \
		    --json -q >"$json" 2>"$tmp/bench.err"
		rc=$?
		stop_all
		if [ "$rc" -ne 0 ] || [ -z "$(json_field "$json" deliveries_per_s)" ]
		then
			echo "run $run $kind: chat-bench failed ($rc):" \
			    "$(tail -n 3 "$tmp/bench.err")" >&2
			bad=1
			continue
		fi
		dps[$kind]+=" $(json_field "$json" deliveries_per_s)"
		p50[$kind]+=" $(json_field "$json" p50)"
		p99[$kind]+=" $(json_field "$json" p99)"
		lost[$kind]+=" $(json_field "$json" lost)"
		conn[$kind]+=" $(json_field "$json" connect_s)"
		[ "$(json_field "$json" lost)" = 0 ] || bad=1
		printf 'run %d %-8s %12.0f deliveries/s  p50 %8.0f us  p99 %8.0f us  lost %s\n' \
		    "$run" "$kind" "$(json_field "$json" deliveries_per_s)" \
		    "$(json_field "$json" p50)" "$(json_field "$json" p99)" \
		    "$(json_field "$json" lost)"
	done
done

{
	echo "chat-bench ${bench_opts[*]}; medians of $runs runs; $(nproc) CPUs"
	echo
	echo "| | alone | 1 node, NATS | $nodes nodes, NATS |"
	echo "|---|---|---|---|"
	for row in dps p50 p99 conn lost; do
		case $row in
		dps) label="deliveries/s" ;;
		p50) label="p50 latency (us)" ;;
		p99) label="p99 latency (us)" ;;
		conn) label="connect time (s)" ;;
		lost) label="lost (max)" ;;
		esac
		line="| $label"
		for kind in "${kinds[@]}"; do
			declare -n col=$row
			# shellcheck disable=SC2086
			if [ "$row" = lost ]; then
				v=$(printf '%s\n' ${col[$kind]:-} | sort -g |
				    tail -n 1)
			else
				v=$(median ${col[$kind]:-})
			fi
			unset -n col
			line+=" | ${v:--}"
		done
		echo "$line |"
	done
} | tee "${out:-/dev/null}"
exit "$bad"
