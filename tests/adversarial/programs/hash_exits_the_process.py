# hash_exits_the_process
# class: hash tricks
# tests: hashed

import os
class H:
    def __hash__(self):
        os._exit(0)
    def __eq__(self, o):
        os._exit(0)
def f(x):
    return H()
