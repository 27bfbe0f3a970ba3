"""Learning rules. Each has ``step(net, x, y) -> diagnostics`` that updates ``net.weights`` in place
(the protocol: tpnb.rules.protocol).

Every rule checks its options when it is made (a ValueError or TypeError naming the option, the value and
what is allowed) and every ``step`` checks its batch first (tpnb.checks.training_batch: x (B, d_in) and
y (B, n_out) real, finite, B >= 1), so bad input never reaches the weights.
"""
import inspect

from ..checks import keyword_names, known_options
from .backprop import Backprop, gradients
from .exact_tp import ExactTP, per_sample_weights
from .random_direction_tp import RandomDirectionTP, reference_step
from .dfa import DFA
from .gnt import GNT
from .dtp import DDTPControl, DDTPLinear, DDTPRHL, DTP, DTPDRL, DifferenceTP, InverseTP
from .gtp import GTP, gtp_init_variances, gtp_initialize
from .protocol import Directions

RULES = {"exact_tp": ExactTP, "backprop": Backprop, "random_direction_tp": RandomDirectionTP}
RULES.update({cls.name: cls for cls in (DFA, GNT, DTP, DTPDRL, DDTPLinear, DDTPRHL, DDTPControl, GTP)})


def make_rule(name: str, **options):
    """A rule instance from its registered name and options."""
    if not isinstance(name, str) or name not in RULES:
        raise ValueError(f"unknown rule {name!r}; known: {sorted(RULES)}")
    cls = RULES[name]
    forwards = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(cls.__init__).parameters.values())
    if not forwards:            # a rule passing extra keywords on to its optimiser checks them itself
        known_options(f"rule {name!r}", options, keyword_names(cls.__init__))
    return cls(**options)


__all__ = ["Backprop", "Directions", "ExactTP", "RULES", "gradients", "make_rule", "per_sample_weights",
           "RandomDirectionTP", "random_direction_tp", "reference_step",
           "DFA", "GNT", "DTP", "DTPDRL", "DDTPLinear", "DDTPRHL", "DDTPControl", "DifferenceTP", "InverseTP",
           "GTP", "gtp_init_variances", "gtp_initialize"]
