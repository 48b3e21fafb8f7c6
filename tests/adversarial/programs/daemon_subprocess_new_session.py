# daemon_subprocess_new_session
# class: daemon
# tests: assert

import subprocess, sys, time
try:
    subprocess.Popen(['/proc/self/exe', '-S', '-c', f'import ctypes, time; ctypes.CDLL(None).prctl(15, {MARKER!r}.encode(), 0, 0, 0); time.sleep(60)'],
                     start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
except OSError as e:
    print('refused', e)
time.sleep(0.3)
def f(x):
    return 0
