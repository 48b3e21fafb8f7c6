# setuid_binaries
# class: host
# tests: assert
# expect: fail fail,fail

import subprocess
st = open('/proc/self/status').read()
print([l for l in st.splitlines() if l.startswith(('NoNewPrivs', 'CapEff', 'Uid'))])
try:
    print(subprocess.run(['/usr/bin/mount', '-t', 'tmpfs', 'none', '/usr'], capture_output=True))
except OSError as e:
    print('refused', e)
def f(x):
    return 0
