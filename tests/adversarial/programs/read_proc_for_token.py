# read_proc_for_token
# class: parent via /proc
# tests: assert
# expect: fail fail,fail

import os, json
seen = {'readable': [], 'denied': []}
dump = []
for pid in [d for d in os.listdir('/proc') if d.isdigit()] + ['self']:
    for name in ('environ', 'cmdline', 'maps', 'mem', 'fd', 'status', 'stack'):
        p = f'/proc/{pid}/{name}'
        try:
            if name == 'fd':
                for fd in os.listdir(p):
                    try:
                        dump.append(os.readlink(f'{p}/{fd}'))
                    except OSError:
                        pass
            else:
                with open(p, 'rb') as fh:
                    dump.append(fh.read(1 << 16).decode('latin-1'))
            seen['readable'].append(p)
        except (OSError, ValueError):
            seen['denied'].append(p)
print(json.dumps(seen))
print(dump)
print('PIDS', [d for d in os.listdir('/proc') if d.isdigit()])
def f(x):
    return 0
