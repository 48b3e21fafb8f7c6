# forked_heap_bomb: several processes, each under memory_mb, together far beyond it
# class: memory
# tests: assert

import os, time
for _ in range(6):
    if os.fork() == 0:
        held, blocks = 0, []
        try:
            while held < MEMORY_MB * 0.6:  # each child stays under a per-process limit
                b = bytearray(16 << 20)
                b[::4096] = b'\1' * (len(b) // 4096)  # touch every page: resident, not just reserved
                blocks.append(b)
                held += 16
                print('HELD', os.getpid(), held, flush=True)
        except MemoryError:
            print('stopped', flush=True)
        time.sleep(5)
        os._exit(0)
time.sleep(TIMEOUT * 0.9)
def f(x):
    return 0
