# seccomp_i386_abi: denied system calls through the x32 ABI and the 32-bit entry point (int 0x80),
# which a filter that checks only x86_64 numbers would let through
# class: host
# tests: assert

import ctypes, mmap, platform

def int80(nr, ebx=0, ecx=0):
    # mov eax, nr; mov ebx, ebx; mov ecx, ecx; int 0x80; ret  (eax comes back as the result)
    code = (b'\xb8' + nr.to_bytes(4, 'little') + b'\xbb' + ebx.to_bytes(4, 'little')
            + b'\xb9' + ecx.to_bytes(4, 'little') + b'\xcd\x80\xc3')
    buf = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    buf.write(code)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
    return ctypes.CFUNCTYPE(ctypes.c_int)(addr)()

if platform.machine() == 'x86_64':
    libc = ctypes.CDLL(None, use_errno=True)
    print('trying x32 keyctl', flush=True)  # the x32 ABI: the same numbers with bit 30 set
    r = libc.syscall(ctypes.c_long(0x40000000 | 250), ctypes.c_long(1), ctypes.c_long(0))
    print('BREACH' if r >= 0 else 'refused', 'x32 keyctl', r, ctypes.get_errno(), flush=True)
    for name, nr, ebx, ecx in (('keyctl(JOIN_SESSION_KEYRING)', 288, 1, 0), ('unshare(CLONE_NEWUSER)', 310, 0x10000000, 0)):
        print('trying', name, flush=True)
        try:
            r = int80(nr, ebx, ecx)
        except (OSError, ValueError) as e:  # no executable mapping allowed
            print('refused', name, e, flush=True)
            continue
        print('BREACH' if r >= 0 else 'refused', name, r, flush=True)
def f(x):
    return 0
