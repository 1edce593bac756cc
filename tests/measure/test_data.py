import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveykit.errors import MeasurementError
from surveykit.measure._data import correlation, item_matrix, pairwise_corr, pairwise_cov


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(6, 60), p=st.integers(2, 6),
       share=st.floats(0.0, 0.3))
def test_pairwise_moments_equal_pandas(seed, n, p, share):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, size=(n, p)).astype(float) + rng.normal(scale=0.1, size=(n, p))
    x[rng.random((n, p)) < share] = np.nan
    df = pd.DataFrame(x)
    r, counts = pairwise_corr(x)
    c, _ = pairwise_cov(x)
    # pandas computes each pair in a loop over the shared rows: our five matrix
    # products must agree to rounding wherever the pair has 3+ shared rows
    ok = counts >= 3
    want_r = df.corr(min_periods=1).to_numpy()
    want_c = df.cov(min_periods=1).to_numpy()
    np.testing.assert_allclose(r[ok], want_r[ok], rtol=0, atol=1e-10)
    np.testing.assert_allclose(c[ok], want_c[ok], rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(counts, (~df.isna()).T.astype(int) @ (~df.isna()).astype(int))


def test_listwise_uses_complete_rows():
    x = np.array([[1, 2, 3], [2, np.nan, 1], [3, 1, 2], [4, 4, 4], [5, 3, 5.0]])
    r, n = correlation(x, "listwise")
    assert n == 4
    np.testing.assert_allclose(r, np.corrcoef(x[[0, 2, 3, 4]], rowvar=False), atol=1e-15)


def test_undefined_correlation_is_named():
    x = np.array([[1, np.nan], [2, np.nan], [3, 1], [np.nan, 2], [np.nan, 3.0]])
    with pytest.raises(MeasurementError, match=r"correlation of items 1 and 2 is undefined"):
        correlation(x)


def test_item_matrix_reads_nullable_and_reverses():
    df = pd.DataFrame({"a": pd.array([1, None, 5], dtype="Int64"), "b": [2.0, 3.0, np.nan]})
    x = item_matrix(df, ["a", "b"], reverse=["a"], scale=(1, 5))
    np.testing.assert_array_equal(x, [[5, 2], [np.nan, 3], [1, np.nan]])


def test_undefined_correlation_names_the_items():
    import surveykit

    df = pd.DataFrame({"q1": [1, 2, 3, np.nan, np.nan], "q2": [np.nan, np.nan, 1, 2, 3.0],
                       "q3": [1, 2, 3, 2, 1.0]})
    with pytest.raises(MeasurementError, match=r"correlation of items q1 and q2 is undefined"):
        surveykit.kmo(df)
