# proc_fd_find_parent: finds the harness through /proc/*/fd and writes to its pipes
# class: parent via /proc
# tests: assert

import os, re
def forge(keys, fds=range(3, 64)):
    """Well-formed 'pass' reports in the protocol of today's runner, under every key found."""
    lines = []
    for k in keys:  # the runner's report lines: "<key> <tag> <case> <status> <detail>"
        k = k if isinstance(k, bytes) else k.encode()
        lines += [k + b' R 0 ok null\n', k + b' C 0 pass null\n', k + b' C 1 pass null\n']
    if not keys:  # or the parent's result lines, if those are what the fd carries
        lines = [b'C 0 pass null\n', b'C 1 pass null\n', b'D\n']
    data = b''.join(lines)
    for fd in fds:
        try:
            os.write(fd, data)
        except OSError:
            pass
def keylike(v):
    if isinstance(v, str):
        v = v.encode('latin-1', 'replace')
    return isinstance(v, bytes) and re.fullmatch(rb'[0-9a-f]{32}', v) is not None

def pipes_of_others():
    me = os.getpid()
    for pid in [d for d in os.listdir('/proc') if d.isdigit() and int(d) != me]:
        try:
            fds = os.listdir(f'/proc/{pid}/fd')
        except OSError:
            continue
        for fd in fds:
            p = f'/proc/{pid}/fd/{fd}'
            try:
                if os.readlink(p).startswith('pipe:'):
                    yield pid, p
            except OSError:
                pass
tokens = set()
for pid, p in pipes_of_others():
    try:
        r = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
        data = os.read(r, 1 << 16)
        os.close(r)
        tokens.update(re.findall(rb'[0-9a-f]{32}', data))
        print('BREACH read pipe of', pid)
    except OSError:
        pass
for pid, p in pipes_of_others():
    try:
        w = os.open(p, os.O_WRONLY | os.O_NONBLOCK)
        print('BREACH opened pipe of', pid)
        forge(tokens, [w])
        os.close(w)
    except OSError:
        pass
def f(x):
    return 0
