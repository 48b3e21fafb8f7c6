# memory_bomb_in_test
# class: resources
# tests: assert
# expect: fail error,error

def f(x):
    return len(bytearray(1 << 40))
