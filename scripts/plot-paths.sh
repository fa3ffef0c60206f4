#!/bin/sh
# Draws tdxsim-bench's VM-entry path breakdown (vm-entry-paths.dat, written
# next to results.json) as an SVG stacked bar chart with gnuplot
# (scripts/plot-paths.gp). `make bench` runs it; docs/img/vm-entry-paths.svg
# is a copy from a real run.
#   scripts/plot-paths.sh DAT SVG
set -eu
if [ $# -ne 2 ]; then
	echo "usage: $0 DAT SVG" >&2
	exit 2
fi
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "plot-paths: gnuplot not found (scripts/install-deps.sh installs gnuplot-nox)" >&2
	exit 1
fi
if [ ! -r "$1" ]; then
	echo "plot-paths: $1: cannot read the breakdown (run tdxsim-bench first)" >&2
	exit 1
fi
case "$1$2" in
*"'"*) echo "plot-paths: paths with a single quote are not supported" >&2; exit 2 ;;
esac
gnuplot -e "dat='$1'; out='$2'" "$(dirname "$0")/plot-paths.gp"
echo "plot-paths: wrote $2"
