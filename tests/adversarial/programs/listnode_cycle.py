# listnode_cycle: a linked list that points back at itself, for the trusted side to rebuild
# class: huge value
# tests: listnode

def f(x):
    n = ListNode(2 * x)
    n.next = n
    return n
