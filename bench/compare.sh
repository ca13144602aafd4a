#!/usr/bin/env bash
# compare.sh: raise the open-file limit, build the harness, run cmd/compare.
# Arguments are passed to compare (e.g. -quick, -rounds 3, -impls a,b).
set -euo pipefail
cd "$(dirname "$0")"
export PATH="/usr/local/go/bin:$PATH"

# The idle workload holds 10,000 connections (2,000 with -quick): the load
# generator and the server each need that many descriptors, plus slack.
need=10240
for a in "$@"; do
	if [ "$a" = "-quick" ] || [ "$a" = "--quick" ]; then need=2240; fi
done
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
	hard="$(ulimit -Hn)"
	if [ "$hard" = unlimited ] || [ "$hard" -ge 65536 ]; then
		ulimit -n 65536
	elif [ "$hard" -ge "$need" ]; then
		ulimit -n "$hard"
	else
		echo "compare.sh: open-file limit is $(ulimit -n) (hard limit $hard); the idle workload needs $need." >&2
		echo "compare.sh: raise the hard limit (e.g. /etc/security/limits.conf, or run as root) or pass -workloads without idle." >&2
		exit 1
	fi
fi
echo "compare.sh: open-file limit $(ulimit -n)" >&2

if ! command -v taskset >/dev/null 2>&1; then
	echo "compare.sh: WARNING: taskset not found; server and load generator will not be pinned to separate CPUs (apt-get install util-linux)" >&2
fi

mkdir -p bin
go build -o bin/ ./cmd/server ./cmd/load ./cmd/compare
exec ./bin/compare "$@"
