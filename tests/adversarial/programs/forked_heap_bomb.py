# forked_heap_bomb: several processes, each under memory_mb, together far beyond it
# class: memory
# tests: assert

import os, time
r, w = os.pipe()
children = []
for _ in range(6):
    pid = os.fork()
    if pid == 0:
        os.close(r)
        held, blocks = 0, []
        try:
            while held < MEMORY_MB * 0.6:  # each child stays under a per-process limit
                b = bytearray(16 << 20)
                b[::4096] = b'\1' * (len(b) // 4096)  # touch every page: resident, not just reserved
                blocks.append(b)
                held += 16
                os.write(w, f'{os.getpid()} {held}\n'.encode())
        except MemoryError:
            pass
        time.sleep(30)
        os._exit(0)
    children.append(pid)
os.close(w)
time.sleep(TIMEOUT * 0.7)
os.set_blocking(r, False)
try:
    reports = os.read(r, 1 << 20).decode().split()
except BlockingIOError:
    reports = []
held = dict(zip(reports[::2], map(int, reports[1::2])))  # the last report of each child
alive = [str(p) for p in children if os.waitpid(p, os.WNOHANG)[0] == 0]
# what the live children hold at the same time (a killed child's memory is freed), and each one
print('HEAP', os.getpid(), sum(held.get(p, 0) for p in alive), flush=True)
for p in alive:
    print('EACH', p, held.get(p, 0), flush=True)
def f(x):
    return 0
