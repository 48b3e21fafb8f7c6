# opaque_len_and_iter
# class: lying equality
# tests: list

class L:
    def __len__(self):
        return 1
    def __iter__(self):
        return iter([4])
    def __getitem__(self, i):
        return 4
    def __eq__(self, o):
        return True
def f(x):
    return L()
