#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tests/bench/report.py OUTDIR - the summary tables of `make bench` (tests/bench/bench.sh).

Reads what the guests measured (tests/bench/run-guest.sh) and the host's tcptimeline benchmark:

  OUTDIR/main/bench.txt        the 2-CPU boot: churn, hits, drain, cat, capacity, profile
  OUTDIR/main/trace-CFG-R.out  bpftrace's and bcc's output of round R, counted here by port
  OUTDIR/main/perf-top.txt     perf report, top symbols; perf-script.txt: every sample's stack
  OUTDIR/cpusN/bench.txt       the scaling boots (base and reader churn with N CPUs)
  OUTDIR/tools-bench.txt       `make -C tools bench` on the host
  OUTDIR/host.txt              the host: CPU, system, load average at the start and the end

bench.txt holds one measurement a line, first word the kind:
  guest KVER CPUS MEM_MB CLOCKSOURCE
  note TEXT
  churn PATH CONFIG ROUND SECONDS CONNS CPU_TICKS WRITTEN RECEIVED LOST WAKEUPS PORT
  hits CONFIG ROUND ITERATIONS NS WRITTEN
  cat RING CONTENT LINES SECONDS
  drain RING READERS RECORDS LOST SECONDS
  capacity RING READER PAUSE_MS WRITTEN RECEIVED LOST SECONDS CONNS
("-" where a field does not apply; CPU_TICKS are USER_HZ ticks of busy CPU over the run.)
"""
import collections
import glob
import os
import re
import statistics
import sys

USER_HZ = os.sysconf("SC_CLK_TCK")
ORDER = ["base", "kprobes", "tracepoint", "module", "reader", "reader-read", "reader-w0", "bpftrace",
         "bcc"]
# the floor: the same hooks with nothing behind them (kprobe events, tracing off)
FLOOR = "kprobes"
TRACERS = ("bpftrace", "bcc")
PATHS = {"lo": "loopback", "veth": "veth pair between two network namespaces"}


def load(path):
    rows = collections.defaultdict(list)
    if os.path.exists(path):
        for line in open(path):
            f = line.split()
            if f:
                rows[f[0]].append(f[1:])
    return rows


def num(s):
    return None if s == "-" else float(s)


def med(xs):
    return statistics.median(xs) if xs else 0.0


def fmt_int(x):
    return "-" if x is None else f"{x:,.0f}"


def table(header, rows, aligns=None):
    """Prints a plain text table; every cell is already a string."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    aligns = aligns or ["<"] + [">"] * (len(header) - 1)
    for r in [header] + rows:
        print("  ".join(f"{str(c):{a}{w}}" for c, a, w in zip(r, aligns, widths)).rstrip())


# ---- tracers' output ----

EVENT_BPFTRACE = re.compile(r"^\d+ \d+ \d+ \d+ \d+ (\d+) (\d+) ")
LOST = re.compile(r"(?:Lost|Possibly lost) (\d+)")


def tracer_counts(path, ports):
    """{port: [lines, lost]} for the given server ports. A line belongs to a port when either of
    its ports is that one; a lost-event notice belongs to the run of the line before it."""
    counts = {p: [0, 0] for p in ports}
    last = None
    pending_lost = 0
    for line in open(path, errors="replace"):
        m = LOST.search(line)
        if m:
            if last is None:
                pending_lost += int(m.group(1))
            else:
                counts[last][1] += int(m.group(1))
            continue
        m = EVENT_BPFTRACE.match(line)
        if m:
            pair = (m.group(1), m.group(2))
        else:
            f = line.split()
            # bcc: SKADDR C-PID C-COMM LADDR LPORT RADDR RPORT OLDSTATE -> NEWSTATE MS
            if len(f) < 10 or f[-3] != "->":
                continue
            pair = (f[-7], f[-5])
        for p in pair:
            if p in counts:
                counts[p][0] += 1
                last = p
                if pending_lost:
                    counts[p][1] += pending_lost
                    pending_lost = 0
                break
    return counts


# ---- churn ----


def churn_runs(dirname):
    """[[path, cfg, round, secs, conns, ticks, records, received, lost, wakeups], ...]"""
    rows = load(os.path.join(dirname, "bench.txt"))
    runs = []
    by_trace = collections.defaultdict(list)
    for f in rows["churn"]:
        path, cfg, rnd, secs, conns, ticks, written, received, lost, wakeups, port = f
        run = [path, cfg, int(rnd), float(secs), int(conns), int(ticks), num(written),
               num(received), num(lost), num(wakeups)]
        if cfg in TRACERS:
            by_trace[(cfg, rnd)].append((run, port))
        runs.append(run)
    for (cfg, rnd), items in by_trace.items():
        out = os.path.join(dirname, f"trace-{cfg}-{rnd}.out")
        if not os.path.exists(out):
            continue
        counts = tracer_counts(out, [p for _, p in items])
        for run, port in items:
            run[6], run[8] = counts[port]
    return runs


def churn_summary(runs, path, label):
    """Prints the churn table of one path; returns {config: figures}.

    Every configuration's run is compared with the base run of the same round, made minutes
    apart at most: on a shared host the guest's speed can change several-fold between rounds, so
    ratios are medians of these per-round pairs, not ratios of medians."""
    sel = [r for r in runs if r[0] == path]
    if not sel:
        return {}
    cfgs = [c for c in ORDER if any(r[1] == c for r in sel)]
    base_of = {r[2]: r for r in sel if r[1] == "base"}
    stats = {}
    for c in cfgs:
        rs = [r for r in sel if r[1] == c]
        cps = [r[4] / r[3] for r in rs]
        # CPU time per connection: every CPU's busy time over the run (the reader's included)
        cpu = [r[5] / USER_HZ / r[4] * 1e6 for r in rs if r[4]]
        conns = sum(r[4] for r in rs)
        recs = [r[6] for r in rs if r[6] is not None]
        # events per connection: records the module wrote, or lines a tracer printed plus the
        # events it reported lost (its BPF program ran for those too)
        events = sum(r[6] + (r[8] or 0) for r in rs if r[6] is not None) if c in TRACERS \
            else sum(recs)
        per_conn = events / conns if recs and conns else None
        ratios, extra_ns = [], []
        for r in rs:
            b = base_of.get(r[2])
            if b and r[4] and b[4]:
                ratios.append((r[4] / r[3]) / (b[4] / b[3]))
                if per_conn:
                    extra_us = (r[5] / r[4] - b[5] / b[4]) / USER_HZ * 1e6
                    extra_ns.append(extra_us * 1000 / per_conn)
        stats[c] = dict(
            n=len(rs), cps=med(cps), lo=min(cps), hi=max(cps), cpu=med(cpu),
            ratio=med(ratios), rlo=min(ratios, default=0), rhi=max(ratios, default=0),
            ns=med(extra_ns) if extra_ns else None,
            records=sum(recs) if recs else None, per_conn=per_conn,
            received=sum(r[7] for r in rs) if rs[0][7] is not None else None,
            lost=sum(r[8] for r in rs) if rs[0][8] is not None else None,
            wakeups=med([r[9] / r[3] for r in rs]) if rs[0][9] is not None else None)
    rows = []
    for c in cfgs:
        s = stats[c]
        rows.append([c, str(s["n"]), f"{s['cps']:.0f}", f"{s['lo']:.0f}-{s['hi']:.0f}",
                     f"{s['ratio']:.3f}", f"{s['rlo']:.2f}-{s['rhi']:.2f}", f"{s['cpu']:.0f}",
                     "-" if s["per_conn"] is None else f"{s['per_conn']:.1f}",
                     "-" if c == "base" or s["ns"] is None else f"{s['ns']:,.0f}",
                     fmt_int(s["records"]), fmt_int(s["received"]), fmt_int(s["lost"]),
                     fmt_int(s["wakeups"])])
    print(f"\nChurn over {label}: medians of the runs; ratio: median of each run's conns/s over "
          f"the base run of its round")
    table(["config", "runs", "conns/s", "spread", "ratio", "ratio spread", "cpu-us/conn",
           "events/conn", "ns/record", "records", "received", "lost", "wakeups/s"], rows)
    floor_summary(stats)
    return stats


def floor_summary(stats):
    """Each configuration's overhead (1 - ratio to base) over the floor's, and issue 12's goals."""
    if FLOOR not in stats or "base" not in stats:
        return
    floor = 1 - stats[FLOOR]["ratio"]
    out = []
    for c in [c for c in ORDER if c in stats and c not in ("base", FLOOR)]:
        over = 1 - stats[c]["ratio"]
        out.append([c, f"{stats[c]['ratio']:.3f}", f"{over:.3f}",
                    f"{over / floor:.2f}" if floor > 0.005 else "-"])
    print(f"overhead over the floor ({FLOOR}: ratio {stats[FLOOR]['ratio']:.3f}, overhead "
          f"{floor:.3f}{'; too small to divide by' if floor <= 0.005 else ''}):")
    table(["config", "ratio", "overhead", "x floor"], out)
    if "reader" not in stats:
        return
    r = stats["reader"]
    goals = [("module + reader >= 0.9 of base", r["ratio"] >= 0.9, f"{r['ratio']:.3f}")]
    if floor > 0.005:
        x = (1 - r["ratio"]) / floor
        goals.append(("overhead within 1.5x the floor", x <= 1.5, f"{x:.2f}x"))
    goals.append(("zero records lost", r["lost"] == 0, fmt_int(r["lost"])))
    for peer in TRACERS:
        if peer in stats:
            goals.append((f"ahead of {peer}", r["ratio"] > stats[peer]["ratio"],
                          f"{r['ratio']:.3f} vs {stats[peer]['ratio']:.3f}"))
    print("goals (issue 12), this guest: " + "; ".join(
        f"{g} {'met' if ok else 'NOT met'} ({v})" for g, ok, v in goals))


# ---- microbenchmarks ----


def hits_summary(rows):
    if not rows["hits"]:
        return
    per = collections.defaultdict(dict)
    bad = []
    for cfg, rnd, it, ns, written in rows["hits"]:
        it = int(it)
        per[cfg][rnd] = int(ns) / it
        # the floor's count is its hooks' hits (kprobe_profile), not records
        if written != "-" and cfg != FLOOR and int(written) != 2 * it:
            bad.append(f"{cfg} round {rnd}: {written} records for {it} iterations")
    base = per.get("base", {})
    print(f"\nCost per record, direct: listen() + connect(AF_UNSPEC) on one socket, "
          f"{rows['hits'][0][2]} iterations a run, 2 records an iteration; the extra time over "
          f"the base run of the same round, halved (median, spread over the rounds)")
    out = []
    for c in [c for c in ORDER if c in per]:
        v = list(per[c].values())
        extra = [(t - base[r]) / 2 for r, t in per[c].items() if r in base]
        out.append([c, str(len(v)), f"{med(v):,.0f}", f"{min(v):,.0f}-{max(v):,.0f}",
                    "-" if c == "base" else f"{med(extra):,.0f}",
                    "-" if c == "base" else f"{min(extra):,.0f}-{max(extra):,.0f}"])
    table(["config", "runs", "ns/iteration", "spread", "ns/record over base", "spread"], out)
    extra = {c: med([(t - base[r]) / 2 for r, t in per[c].items() if r in base])
             for c in per if c != "base"}
    if extra.get(FLOOR, 0) > 0:
        print(f"over the floor ({FLOOR}: the same two hooks, nothing behind them, "
              f"{extra[FLOOR]:,.0f} ns a hit): " + ", ".join(
                  f"{c} {extra[c] / extra[FLOOR]:.2f}x" for c in ORDER
                  if c in extra and c != FLOOR))
    print("records checked: `written` grew by exactly 2 per iteration in every run" if not bad
          else "record count MISMATCH: " + "; ".join(bad))


def ring_summary(rows):
    if rows["drain"]:
        print("\n/dev/tcpstates read throughput: readers draining a full ring from its oldest "
              "record, 4 MiB read()s, O_NONBLOCK until EAGAIN")
        out = []
        for ring, readers, records, lost, secs in rows["drain"]:
            out.append([ring, readers, f"{int(records):,}", lost, f"{float(secs):.3f}",
                        f"{int(records) / float(secs) / 1e6:.2f} M",
                        f"{int(records) / int(readers) / float(secs) / 1e6:.2f} M"])
        table(["ring", "readers", "records read", "lost", "seconds", "records/s (all)",
               "records/s (each)"], out)
    if rows["cat"]:
        print("\ncat /proc/tcpstates > /dev/null of a full ring (median of the runs)")
        groups = collections.defaultdict(list)
        for ring, content, lines, secs in rows["cat"]:
            groups[(int(ring), content)].append((int(lines), float(secs)))
        out = []
        for (ring, content), v in groups.items():
            secs = med([s for _, s in v])
            lines = max(n for n, _ in v)
            what = "churn records" if content == "churn" else "hits-loop records (listener)"
            out.append([str(ring), what, str(len(v)), f"{lines:,}", f"{secs:.2f}",
                        f"{secs / lines * 1e6:.1f}"])
        table(["ring", "filled with", "runs", "lines", "seconds", "us/line"], out,
              ["<", "<", ">", ">", ">", ">"])


def capacity_summary(rows):
    if not rows["capacity"]:
        return
    print("\nRing capacity and loss under churn (loopback): each reader's records received and lost")
    out = []
    lossy = collections.defaultdict(list)
    # the churn's record rate, from what was written while tcptimeline read
    rates = {f[0]: int(f[3]) / float(f[6]) for f in rows["capacity"] if f[1] == "tcptimeline"}
    for f in rows["capacity"]:
        ring, reader, pause, written, received, lost, secs = f[:7]
        cps = f"{int(f[7]) / float(secs):.0f}" if len(f) > 7 and f[7] else "-"
        rate = rates.get(ring) or int(written) / float(secs)
        who = "tcptimeline -w" if reader == "tcptimeline" else f"pauses {pause} ms"
        out.append([ring, who, cps, f"{rate:,.0f}", f"{int(ring) / rate:.2f}", f"{int(written):,}",
                    f"{int(received):,}", f"{int(lost):,}"])
        lossy[who].append((int(ring), int(lost), int(ring) / rate))
    table(["ring", "reader", "conns/s", "records/s", "ring holds (s)", "written", "received",
           "lost"], out, ["<", "<", ">", ">", ">", ">", ">", ">"])
    for who, v in lossy.items():
        losing = [r for r, l, _ in v if l > 0]
        fine = [r for r, l, _ in v if l == 0]
        if not losing:
            verdict = f"no loss from {min(fine):,} records up"
        elif not fine:
            verdict = f"loses with every ring tried (up to {max(losing):,})"
        else:
            verdict = f"loses with {max(losing):,} records, none from {min(fine):,}"
        print(f"  {who}: {verdict}")


# ---- profile ----

IDLE = {"native_safe_halt", "default_idle", "amd_e400_idle", "default_idle_call", "do_idle",
        "cpu_idle_poll"}
MACHINERY = re.compile(r"kprobe|ftrace|rethook|kretprobe|freelist")
CLOCK = {"read_hpet", "read_tsc", "ktime_get", "ktime_get_ns", "ktime_get_mono_fast_ns",
         "ktime_get_with_offset"}
WAKE = {"ts_ring_wake", "ts_ring_arm", "ts_ring_wake_timer"}
CATS = [
    ("idle", "idle (CPU halted)"),
    ("churn", "TCP churn: the stress process, softirq, the rest of the kernel"),
    ("handler", "tcpstates handler code (ts_*: probes, record fill, ring)"),
    ("clock", "tcpstates: its timestamp (the clocksource read)"),
    ("helpers", "tcpstates: other kernel functions its handlers call"),
    ("wake", "tcpstates: waking readers (irq_work, timer: hard irq, unseen by cpu-clock)"),
    ("machinery", "kprobe/kretprobe machinery: ftrace trampoline, kprobe_ftrace_handler, rethook"),
    ("reader_k", "reader: tcptimeline in the kernel (read() of /dev/tcpstates, write())"),
    ("reader_u", "reader: tcptimeline in user space (decode, write the capture)"),
    ("perf", "perf itself"),
]


def classify(comm, frames, modsyms):
    syms = [s for s, _ in frames]
    # perf puts the module's functions under [kernel.kallsyms]: tell them apart by name
    dsos = ["[tcpstates]" if s in modsyms else d for s, d in frames]
    if comm == "swapper" and IDLE.intersection(syms):
        return "idle"
    if comm == "perf":
        return "perf"
    if comm == "tcptimeline":
        return "reader_k" if dsos[0] in ("[kernel.kallsyms]", "[tcpstates]") else "reader_u"
    if "[tcpstates]" in dsos:
        if WAKE.intersection(syms):
            return "wake"
        if dsos[0] == "[tcpstates]":
            return "handler"
        first = dsos.index("[tcpstates]")
        if set(syms[:first]) <= CLOCK:
            return "clock"
        return "helpers"
    for s, d in frames:
        if MACHINERY.search(s) or (s == "[unknown]" and d == "[kernel.kallsyms]"):
            return "machinery"
    return "churn"


def profile_summary(dirname):
    top = os.path.join(dirname, "perf-top.txt")
    script = os.path.join(dirname, "perf-script.txt")
    if not os.path.exists(script):
        return
    print("\nProfile: perf record -a -g -e cpu-clock in the guest, churn on loopback with the "
          "module loaded and tcptimeline -w recording")
    print("top symbols (perf report --no-children --sort comm,dso,sym):")
    for line in open(top).read().splitlines()[:15]:
        print("  " + line.strip())
    cats = collections.Counter()
    leaves = collections.Counter()
    total = 0
    syms_file = os.path.join(dirname, "module-syms.txt")
    modsyms = set(open(syms_file).read().split()) if os.path.exists(syms_file) else set()
    for block in open(script, errors="replace").read().split("\n\n"):
        lines = block.strip("\n").split("\n")
        if not lines or not lines[0].strip():
            continue
        comm = lines[0].split()[0]
        frames = []
        for ln in lines[1:]:
            m = re.match(r"\s*[0-9a-f]+ (.*) \((.*)\)$", ln)
            if m:
                frames.append((re.sub(r"\+0x[0-9a-f]+$", "", m.group(1)), m.group(2)))
        if not frames:
            continue
        total += 1
        c = classify(comm, frames, modsyms)
        cats[c] += 1
        if c in ("handler", "clock", "helpers", "wake", "machinery"):
            sym, dso = frames[0]
            if sym == "[unknown]":
                sym = "[ftrace trampoline]" if dso == "[kernel.kallsyms]" else f"[unknown in {dso}]"
            leaves[sym] += 1
    busy = total - cats["idle"]
    print(f"\nwhere the time goes ({total:,} samples; shares of all samples and of the busy ones):")
    out = []
    for key, label in CATS:
        out.append([label, f"{cats[key]:,}", f"{cats[key] * 100 / total:.1f}%",
                    "-" if key == "idle" else f"{cats[key] * 100 / busy:.1f}%"])
    table(["", "samples", "all", "busy"], out, ["<", ">", ">", ">"])
    mod = sum(cats[k] for k in ("handler", "clock", "helpers", "wake", "machinery"))
    print(f"tcpstates in the writers' path (handler, its calls, wakeups, probe machinery): "
          f"{mod * 100 / busy:.1f}% of busy time; the reader: "
          f"{(cats['reader_k'] + cats['reader_u']) * 100 / busy:.1f}%")
    print("its top leaf functions:")
    for sym, n in leaves.most_common(10):
        print(f"  {n * 100 / busy:5.2f}%  {sym}")


# ---- main ----


def main():
    out = sys.argv[1]
    main_dir = os.path.join(out, "main")
    rows = load(os.path.join(main_dir, "bench.txt"))
    print("=" * 100)
    print("SUMMARY")
    host = load(os.path.join(out, "host.txt"))
    for key, label in (("cpu", "host"), ("system", "host")):
        for h in host[key]:
            print(f"{label}: " + " ".join(h))
    if host["load_start"]:
        end = " ".join(host["load_end"][0]) if host["load_end"] else "?"
        print(f"host load average (1, 5, 15 min): {' '.join(host['load_start'][0])} at the start, "
              f"{end} at the end; the bench itself keeps about 2 busy")
    if host["elapsed"]:
        print(f"make bench took {int(host['elapsed'][0][0]) // 60} min "
              f"{int(host['elapsed'][0][0]) % 60} s up to this summary")
    for h in host["qemu"]:
        print("emulator: " + " ".join(h))
    for g in rows["guest"]:
        print(f"guest: Debian {g[0]}, {g[1]} vCPUs, {g[2]} MB, clocksource {g[3]}")
    for n in rows["note"]:
        print("note: " + " ".join(n))
    runs = churn_runs(main_dir)
    per_path = {}
    for path, label in PATHS.items():
        per_path[path] = churn_summary(runs, path, label)
    print("""
  conns/s: connections a second (connect, 1-byte exchange, close), spread: slowest-fastest run;
  ratio: to the base run of the same round (median, spread over the rounds); cpu-us/conn: busy
  CPU time of the whole guest (every CPU, readers included) per connection; events/conn: records
  the module wrote, or lines bpftrace/bcc printed + events they reported lost; ns/record: the
  cpu-us/conn above the same round's base, divided by events/conn (median over the rounds);
  records: written by the module (printed, for bpftrace/bcc; hook hits, for kprobes, from
  kprobe_profile; the tracepoint's are not counted); received: by the reader; lost:
  written - received (module readers) or what bpftrace/bcc reported lost; wakeups/s: the
  reader's voluntary context switches""")
    hits_summary(rows)
    ring_summary(rows)
    tb = os.path.join(out, "tools-bench.txt")
    if os.path.exists(tb):
        print("\ntcptimeline on the host, each format (make -C tools bench, synthetic "
              "captures, records per CPU second; 'bench' is decode + reconstruction alone)")
        for ln in open(tb):
            print(f"  {ln.rstrip()}")
    capacity_summary(rows)
    # scaling: base vs reader on loopback with each CPU count
    scal = []
    for d in sorted(glob.glob(os.path.join(out, "*"))):
        b = load(os.path.join(d, "bench.txt"))
        if not b["guest"]:
            continue
        st = per_path["lo"] if d == main_dir else None
        if st is None:
            with open(os.devnull, "w") as null:
                saved, sys.stdout = sys.stdout, null
                st = churn_summary(churn_runs(d), "lo", "")
                sys.stdout = saved
        if "base" in st and "reader" in st:
            pin = b["pin"][0] if b["pin"] else ["none", "all", "all"]
            scal.append((int(b["guest"][0][1]), st, pin))
    if scal:
        print("\nScaling with guest CPUs: churn on loopback, base, module alone and "
              "tcptimeline -w reading (separate boots; client threads = 2 per churn CPU; "
              "pin 'own': the reader alone on the last CPU, the churn on the others)")
        out_rows = []
        for cpus, st, pin in sorted(scal, key=lambda x: x[0]):
            b, r = st["base"], st["reader"]
            m = st.get("module")
            out_rows.append([str(cpus), pin[0], str(b["n"]), f"{b['cps']:.0f}",
                             f"{m['ratio']:.3f}" if m else "-", f"{r['cps']:.0f}",
                             f"{r['ratio']:.3f}", f"{r['rlo']:.2f}-{r['rhi']:.2f}",
                             f"{b['cpu']:.0f}", f"{r['cpu']:.0f}", fmt_int(r["records"]),
                             fmt_int(r["lost"])])
        table(["CPUs", "pin", "runs", "base conns/s", "module ratio", "reader conns/s",
               "reader ratio", "spread", "base cpu-us/conn", "reader cpu-us/conn", "written",
               "lost"], out_rows)
    profile_summary(main_dir)


if __name__ == "__main__":
    main()
