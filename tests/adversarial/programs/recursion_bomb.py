# recursion_bomb
# class: resources
# tests: assert
# expect: error

def r(n):
    return r(n + 1)
r(0)
def f(x):
    return 0
