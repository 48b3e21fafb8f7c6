# listnode_subclass_lies: a subclass of the shared class whose val is whatever it is compared with
# class: lying equality
# tests: listnode

class Anything(int):
    def __eq__(self, o):
        return True
    __hash__ = int.__hash__
class Lying(ListNode):
    @property
    def val(self):
        return Anything(0)
    @val.setter
    def val(self, v):
        pass
def f(x):
    return Lying(0)
