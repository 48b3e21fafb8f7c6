# memory_bomb
# class: resources
# tests: assert
# expect: error

blocks = [bytes(1 << 24) for _ in range(10 ** 4)]
def f(x):
    return 0
