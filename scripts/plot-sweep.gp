# Plots one `pvkvm bench ... --sweep KNOB=...` result: IOPS (or pps) and
# pv/host against the knob's value, and the exits, kicks and notifications
# per request (load-independent counts) beside them.
#
#   gnuplot -e "datafile='DIR/sweep-K.dat'; outbase='DIR/sweep-K'; knob='K'; what='case'" \
#       scripts/plot-sweep.gp
#
# datafile: a comment line, then rows "value rate ratio exits/req kicks/req
# notifications/req"; "?" = a failed point.

if (!exists("datafile")) datafile = 'build/bench/sweep.dat'
if (!exists("outbase")) outbase = 'build/bench/sweep'
if (!exists("knob")) knob = 'knob'
if (!exists("what")) what = ''

set datafile missing '?'
set grid ytics
set xtics noenhanced
set key noenhanced top left

do for [fmt in "png svg"] {
	if (fmt eq "png") {
		set terminal pngcairo size 1200,500 font ",11"
	} else {
		set terminal svg size 1200,500 font ",11" dynamic
	}
	set output outbase.".".fmt
	set multiplot layout 1,2 title "sweep ".knob." (".what.")" noenhanced
	set xlabel knob noenhanced
	set ylabel "pv rate (per second)"
	set y2label "pv / host"
	set y2tics
	set yrange [0:*]
	set y2range [0:*]
	plot datafile using 0:2:xtic(1) with linespoints lw 2 title "pv", \
	     '' using 0:3 axes x1y2 with linespoints dt 2 title "pv/host"
	unset y2tics
	unset y2label
	set ylabel "per request"
	plot datafile using 0:4:xtic(1) with linespoints lw 2 title "exits/req", \
	     '' using 0:5 with linespoints title "kicks/req", \
	     '' using 0:6 with linespoints title "notifications/req"
	unset multiplot
}
