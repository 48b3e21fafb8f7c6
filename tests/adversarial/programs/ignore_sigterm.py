# ignore_sigterm
# class: resources
# tests: assert
# expect: timeout

import signal
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
    signal.signal(s, signal.SIG_IGN)
while True:
    pass
