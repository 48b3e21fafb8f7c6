# control_listnode: a correct program returning the prelude's class
# tests: listnode

def f(x):
    return ListNode(2 * x)
