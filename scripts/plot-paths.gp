# The VM-entry path comparison as a stacked bar chart (SVG).
# gnuplot -e "dat='vm-entry-paths.dat'; out='vm-entry-paths.svg'" plot-paths.gp
# dat: tdxsim-bench's breakdown (bench/bench_paths.c): one row per path,
# one column per category of simulated cycles per exit, then the total.
set terminal svg size 960,590 dynamic enhanced font 'Helvetica,13' background rgb 'white'
set output out
set title "Cycles per CPUID-type exit, by where they go (tdxsim timing model)"
set style data histograms
set style histogram rowstacked
set style fill solid 0.9 border rgb 'white'
set boxwidth 0.62
set key below horizontal maxrows 2 Left reverse noautotitle width 2
set ylabel "simulated cycles per exit"
set yrange [0:*]
set offsets 0, 0, graph 0.06, 0
set grid ytics lc rgb '#dddddd'
set border 3
set xtics nomirror scale 0
set ytics nomirror
set linetype 1 lc rgb '#4e79a7'
set linetype 2 lc rgb '#e15759'
set linetype 3 lc rgb '#f28e2b'
set linetype 4 lc rgb '#edc948'
set linetype 5 lc rgb '#76b7b2'
set linetype 6 lc rgb '#b07aa1'
set linetype 7 lc rgb '#59a14f'
set linetype 8 lc rgb '#9c755f'
plot for [i=2:9] dat using i:xtic(1) title columnheader(i) lt i-1, \
     '' using ($0 - 1):10:(sprintf("%.0f", $10)) with labels offset 0,0.8 notitle
