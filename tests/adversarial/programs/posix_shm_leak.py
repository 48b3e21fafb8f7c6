# posix_shm_leak
# class: fill /dev/shm
# tests: assert

from multiprocessing import shared_memory
try:
    s = shared_memory.SharedMemory(name=JUNK, create=True, size=32 << 20)
    s.buf[:] = b'\1' * len(s.buf)
    s._mmap = None  # keep it, and keep the resource tracker from unlinking it
except Exception as e:
    print('refused', e)
def f(x):
    return 0
