# environ_secret_return
# class: ancestor environ
# tests: secret_env

import os
def f():
    for pid in [d for d in os.listdir('/proc') if d.isdigit()]:
        try:
            env = open(f'/proc/{pid}/environ', 'rb').read().split(b'\0')
        except OSError:
            continue
        for kv in env:
            if kv.startswith(SECRET_ENV.encode() + b'='):
                return kv.split(b'=', 1)[1].decode()
    return os.environ.get(SECRET_ENV)
