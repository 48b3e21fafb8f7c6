# host_device_nodes: opens (never writes) host devices and kernel knobs
# class: host
# tests: assert

import os
for p in ('/dev/kmsg', '/dev/mem', '/dev/kmem', '/dev/port', '/dev/vda', '/dev/sda', '/dev/nvme0n1', '/dev/tty1'):
    try:
        os.close(os.open(p, os.O_RDONLY | os.O_NONBLOCK))
        print('BREACH opened', p)
    except OSError as e:
        print('refused', p, e)
for p in ('/proc/sysrq-trigger', '/proc/sys/kernel/core_pattern', '/sys/kernel/uevent_helper'):
    try:
        os.close(os.open(p, os.O_WRONLY))  # opened only: nothing is ever written
        print('BREACH could write', p)
    except OSError as e:
        print('refused', p, e)
def f(x):
    return 0
