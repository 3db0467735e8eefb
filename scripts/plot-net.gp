# Plots `pvkvm bench net` results: packets per second and exits per packet, per case,
# for host-direct, fv, fv-dma, sync and pv side by side (log scales: the modes span
# orders of magnitude).
#
#   gnuplot -e "datafile='DIR/net.dat'; outdir='DIR'" scripts/plot-net.gp
#
# datafile has two blocks (index 0: packets per second, index 1: exits per packet), each
# a header line "case host fv fv-dma sync pv" and one row per case; "?" = missing.

if (!exists("datafile")) datafile = 'build/bench/net.dat'
if (!exists("outdir")) outdir = 'build/bench'

set datafile missing '?'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top right horizontal
set grid ytics
set logscale y
set xtics rotate by -20 noenhanced
set key autotitle columnheader

do for [fmt in "png svg"] {
	if (fmt eq "png") {
		set terminal pngcairo size 1200,900 font ",11"
	} else {
		set terminal svg size 1200,900 font ",11" dynamic
	}
	set output sprintf("%s/net.%s", outdir, fmt)
	set multiplot layout 2,1 title "pvkvm bench net: same TAP and switch, host-direct vs fv (NE2000 PIO) vs fv-dma (e1000 rings) vs sync hypercall vs pv (netif)"
	set ylabel "packets per second delivered (log)"
	set title "Packets per second delivered (g2g: no host-direct)"
	plot datafile index 0 using 2:xtic(1) lc rgb "#555555", \
	     '' index 0 using 3 lc rgb "#d62728", \
	     '' index 0 using 4 lc rgb "#9467bd", \
	     '' index 0 using 5 lc rgb "#ff7f0e", \
	     '' index 0 using 6 lc rgb "#2ca02c"
	set ylabel "exits per packet (log)"
	set format y "%g"
	set title "VMM exits + ioeventfd kicks per packet, inside the measured window"
	plot datafile index 1 using 3:xtic(1) lc rgb "#d62728", \
	     '' index 1 using 4 lc rgb "#9467bd", \
	     '' index 1 using 5 lc rgb "#ff7f0e", \
	     '' index 1 using 6 lc rgb "#2ca02c"
	unset multiplot
	unset output
}
