# tests/lib/kcsan-ours.awk - a kernel log without the KCSAN reports whose racing accesses are not
# the module's (tests/vm/vm.sh's console scan with TCPSTATES_KCSAN=ours, and kcsan-guest.sh):
#   awk -v theirs=FILE -f tests/lib/kcsan-ours.awk LOG
# A report runs from its "BUG: KCSAN:" line to the "=====" line that closes it; each access's
# stack follows a line ending "on cpu N:", and its first frame is the function that made the
# access. A report is the module's when that frame is ([tcpstates]) for either access. A race
# inside a kernel function the module calls (ktime_get_mono_fast_ns()'s latch, read by design
# while the timekeeper writes it) has the module lower in the stack only: the kernel's own, like
# its races in timers and the scheduler, not this project's to fail on; those go to FILE. A
# report never closed is kept whole: it may be the module's.
function done() { if (mine) printf "%s", block; else printf "%s", block > theirs; inrep = 0 }
/BUG: KCSAN:/ { if (inrep) done(); inrep = 1; block = $0 "\n"; mine = 0; top = 0; next }
inrep {
	block = block $0 "\n"
	if (top && /\+0x/) { if (/\[tcpstates\]/) mine = 1; top = 0 }
	if (/ on cpu [0-9]+:[[:space:]]*$/) top = 1
	if (/====================/) done()
	next
}
{ print }
END { if (inrep) printf "%s", block }
