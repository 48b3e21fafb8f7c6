# unix_socket_host: the network namespace does not cover unix sockets on the filesystem
# class: unix socket
# tests: secret_socket

import socket
def f():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(0.5)
    try:
        s.connect(UNIX_SOCKET)
        return s.makefile().readline().strip()
    except OSError as e:
        print('refused', e)
        return None
