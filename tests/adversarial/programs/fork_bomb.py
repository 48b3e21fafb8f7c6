# fork_bomb: forks until the process limit
# class: resources
# tests: assert
# expect: timeout

import os
while True:
    try:
        os.fork()
    except OSError:
        pass
