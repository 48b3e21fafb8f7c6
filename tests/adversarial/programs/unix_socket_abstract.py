# unix_socket_abstract: abstract unix sockets have no file: only a network namespace hides them
# class: unix socket
# tests: secret_socket

import socket
def f():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(0.5)
    try:
        s.connect(ABSTRACT_SOCKET)
        return s.makefile().readline().strip()
    except OSError as e:
        print('refused', e)
        return None
