import numpy as np

from ._align import align, congruence


def test_align_recovers_permutation_and_signs():
    rng = np.random.default_rng(3)
    target = rng.normal(size=(12, 4))
    phi = np.array([[1, .3, .2, .1], [.3, 1, .4, .0], [.2, .4, 1, .5], [.1, .0, .5, 1]])
    perm = [2, 0, 3, 1]
    signs = np.array([-1, 1, -1, 1])
    shuffled = target[:, perm] * signs
    shuffled_phi = phi[np.ix_(perm, perm)] * np.outer(signs, signs)
    got, got_phi = align(shuffled, target, shuffled_phi)
    np.testing.assert_array_equal(got, target)
    np.testing.assert_array_equal(got_phi, phi)


def test_congruence_of_identical_columns_is_one():
    a = np.arange(12.0).reshape(4, 3) + 1
    np.testing.assert_allclose(np.diag(congruence(a, a)), 1.0)
