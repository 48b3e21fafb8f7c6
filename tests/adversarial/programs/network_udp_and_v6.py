# network_udp_and_v6
# class: network
# tests: assert

import socket
for fam, host in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')):
    try:
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.sendto(b'x', (host, PORT))
        print('BREACH udp sent to', host)
    except OSError as e:
        print('refused', e)
    try:
        socket.create_connection((host, PORT), timeout=0.3)
        print('BREACH connected to', host)
    except OSError as e:
        print('refused', e)
def f(x):
    return 0
