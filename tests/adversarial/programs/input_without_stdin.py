# input_without_stdin
# class: resources
# tests: assert
# expect: error

x = input()
def f(x):
    return 0
