import sys
# The demo's first rows on port 8080 (the handshake): event, transition, context, in order.
lines = open(sys.argv[1]).read().split('\n$ cat /proc/tcpstates\n', 1)[1].split('\n$ ')[0].splitlines()
h = lines[0].split()
out = []
for l in lines[1:]:
    c = l.split()
    if len(c) != len(h): continue
    r = dict(zip(h, c))
    if '8080' not in (r['LPORT'], r['RPORT']): continue
    out.append(f"{r['EVENT']}:{r['OLDSTATE']}>{r['NEWSTATE']}:{r['CTX']}")
    if len(out) == 9: break
print(' '.join(out))
