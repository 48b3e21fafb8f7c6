# control_list: a correct program for the list tests
# tests: list

def f(x):
    return [2 * x]
