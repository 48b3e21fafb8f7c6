# unix_socket_scan
# class: unix socket
# tests: secret_socket

import glob, socket, stat, os
def f():
    for p in glob.glob('/tmp/**', recursive=True) + glob.glob('/run/**', recursive=True):
        try:
            if not stat.S_ISSOCK(os.stat(p).st_mode):
                continue
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(0.2)
            s.connect(p)
            print('BREACH connected', p)
            line = s.makefile().readline().strip()
            if line.startswith('socket-'):
                return line
        except OSError:
            pass
    return None
