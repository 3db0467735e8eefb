# Plots `pvkvm bench blk` results: IOPS and exits per request, per workload,
# for host-direct (sleeping and polling), fv, fv-dma, sync and pv side by side
# (log scales: the modes span orders of magnitude).
#
#   gnuplot -e "datafile='DIR/blk.dat'; outdir='DIR'" scripts/plot-blk.gp
#
# datafile has two blocks (index 0: IOPS, index 1: exits per request), each
# a header line "case host fv fv-dma sync pv host-poll" and one row per case;
# "?" = missing.

if (!exists("datafile")) datafile = 'build/bench/blk.dat'
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
	set output sprintf("%s/blk.%s", outdir, fmt)
	set multiplot layout 2,1 title "pvkvm bench blk: same image, host-direct (asleep / polling) vs fv (ATA PIO) vs fv-dma (ATA bus-master DMA) vs sync hypercall vs pv (blkif)"
	set ylabel "IOPS (log)"
	set title "Requests per second (fv, fv-dma and sync run at queue depth 1)"
	plot datafile index 0 using 2:xtic(1) lc rgb "#555555", \
	     '' index 0 using 3 lc rgb "#d62728", \
	     '' index 0 using 4 lc rgb "#9467bd", \
	     '' index 0 using 5 lc rgb "#ff7f0e", \
	     '' index 0 using 6 lc rgb "#2ca02c", \
	     '' index 0 using 7 lc rgb "#aaaaaa"
	set ylabel "VMM exits per request (log)"
	set format y "%g"
	set title "Exits to the VMM per request, inside the measured window"
	plot datafile index 1 using 3:xtic(1) lc rgb "#d62728", \
	     '' index 1 using 4 lc rgb "#9467bd", \
	     '' index 1 using 5 lc rgb "#ff7f0e", \
	     '' index 1 using 6 lc rgb "#2ca02c"
	unset multiplot
	unset output
}
