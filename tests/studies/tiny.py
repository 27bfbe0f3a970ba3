"""A tiny study's runs, shared by the studies tests (the fixture is in conftest.py)."""
from tpnb.studies.core import RunSpec

DATA = dict(name="linear_regression", n_train=64, n_test=32, n_inputs=3, n_outputs=2, noise=0.1, seed=1)


def tiny_specs(lr=0.1):
    """Two backprop runs, one exact-TP run and one run that diverges."""
    return [RunSpec(key=f"bp|lr={lr}|seed={seed}", data=DATA, sizes=(3, 4, 2), activation="relu",
                    rule="backprop", rule_options=dict(lr=lr), epochs=2, batch_size=8, seed=seed,
                    labels=dict(method="bp", seed=seed))
            for seed in (0, 1)] + [
        RunSpec(key="exact", data=DATA, sizes=(3, 4, 2), activation="relu", rule="exact_tp",
                rule_options=dict(alpha=0.5), epochs=2, batch_size=16, seed=0, labels=dict(method="exact_tp")),
        RunSpec(key="diverges", data=DATA, sizes=(3, 4, 2), activation="relu", rule="backprop",
                rule_options=dict(lr=1e6), epochs=5, batch_size=8, seed=0, labels=dict(method="bp_huge"))]
