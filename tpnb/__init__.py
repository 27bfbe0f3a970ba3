"""tpnb: exact target propagation and its relatives on one NumPy MLP."""
from .activations import get_activation
from .losses import get_loss
from .network import MLP
from .rules import make_rule
from .train import History, train

__version__ = "0.1.0"

__all__ = ["MLP", "History", "get_activation", "get_loss", "make_rule", "train", "__version__"]
