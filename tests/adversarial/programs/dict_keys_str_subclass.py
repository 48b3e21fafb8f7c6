# dict_keys_str_subclass
# class: hash tricks
# tests: call

class K(str):
    def __hash__(self):
        return 4
    def __eq__(self, o):
        return True
def f(x):
    return {K('a'): 0, K('b'): 1}
