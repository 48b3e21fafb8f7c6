# memfd_bomb_forked: one memory limit per process is no limit for the run
# class: memory
# tests: assert

import os, time
chunk = b'\1' * (16 << 20)
for _ in range(4):
    if os.fork() == 0:
        held = 0
        try:
            fd = os.memfd_create(JUNK)
            while held < MEMORY_MB:
                os.write(fd, chunk)
                held += 16
                print('HELD', os.getpid(), held, flush=True)
        except OSError as e:
            print('stopped', e, flush=True)
        time.sleep(5)
        os._exit(0)
time.sleep(0.6)
def f(x):
    return 0
