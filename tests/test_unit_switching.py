"""Tests for tpnb.unit_switching: which units a target turns on and off."""
import numpy as np
from hypothesis import given, strategies as st

from tpnb.unit_switching import requested_switches, switch_counts


def test_requested_switches_and_counts_on_a_hand_made_layer():
    u = np.array([[-1.0, 0.0, 2.0, 3.0], [1.0, -2.0, 0.5, 0.0]])
    target = np.array([[0.5, 0.0, -0.1, 3.0], [2.0, 1.0, 0.0, -1.0]])
    # on: (0, 0) and (1, 1); off: (0, 2) and (1, 2); u = 0 counts as off, so (0, 1) and (1, 3) do not switch
    assert requested_switches(u, target) == {"on": 2 / 8, "off": 2 / 8}
    on, off = switch_counts(u, target)
    np.testing.assert_array_equal(on, [1, 1])
    np.testing.assert_array_equal(off, [1, 1])


@given(seed=st.integers(0, 2 ** 32 - 1), batch=st.integers(1, 6), units=st.integers(1, 9))
def test_fractions_are_the_mean_counts_and_a_target_equal_to_u_switches_nothing(seed, batch, units):
    rng = np.random.default_rng(seed)
    u, target = rng.normal(size=(batch, units)), rng.normal(size=(batch, units))
    fractions, (on, off) = requested_switches(u, target), switch_counts(u, target)
    assert fractions["on"] == np.sum(on) / u.size and fractions["off"] == np.sum(off) / u.size
    assert np.all(on + off <= units)
    assert requested_switches(u, u) == {"on": 0.0, "off": 0.0}
    # reversing the target swaps the directions
    assert requested_switches(target, u) == {"on": fractions["off"], "off": fractions["on"]}
