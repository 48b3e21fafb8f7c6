# network_tcp_secret
# class: network
# tests: secret_net

import socket
def f():
    try:
        s = socket.create_connection(('127.0.0.1', PORT), timeout=0.5)
        return s.makefile().readline().strip()
    except OSError as e:
        print('refused', e)
        return None
