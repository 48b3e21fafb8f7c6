# listnode_million: a million nodes crossing by value
# class: huge value
# tests: listnode

def f(x):
    head = None
    for _ in range(10 ** 6):
        head = ListNode(0, head)
    return head
