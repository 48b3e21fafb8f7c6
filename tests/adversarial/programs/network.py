# network
# class: network
# tests: assert
# expect: fail fail,fail

import socket
try:
    socket.create_connection(('127.0.0.1', PORT), timeout=0.5)
    print('BREACH connected')
except OSError as e:
    print('BLOCKED', e)
def f(x):
    return 0
