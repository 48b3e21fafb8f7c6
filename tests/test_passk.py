import math
from itertools import combinations

import pytest

from seer.eval.passk import ks_for, mean_pass_at_k, pass_at_k


def brute_force(n: int, c: int, k: int) -> float:
    items = [1] * c + [0] * (n - c)
    subsets = list(combinations(range(n), k))
    return sum(any(items[i] for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n,c,k", [(5, 0, 1), (5, 1, 1), (5, 2, 3), (6, 3, 2), (7, 7, 4), (10, 1, 10), (4, 2, 4)])
def test_pass_at_k_matches_brute_force(n, c, k):
    assert math.isclose(pass_at_k(n, c, k), brute_force(n, c, k), rel_tol=1e-12)


def test_pass_at_1_is_fraction_correct():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)


def test_invalid_arguments():
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 0)


def test_ks_depend_on_min_samples():
    assert ks_for([1, 1]) == [1]
    assert ks_for([10, 12]) == [1, 5, 10]


def test_mean_over_tasks():
    assert mean_pass_at_k([(1, 1), (1, 0), (2, 1)], 1) == pytest.approx((1 + 0 + 0.5) / 3)
