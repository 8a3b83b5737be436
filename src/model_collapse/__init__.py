"""model-collapse: run, measure and prevent model collapse.

Generative models trained generation after generation on data that earlier models made
forget the tails of the real distribution (Shumailov et al., "The Curse of Recursion").

>>> import model_collapse
>>> result = model_collapse.run("gaussian-1d", overrides=["experiment.generations=5"])
>>> result.metrics.columns[:3].tolist()
['seed', 'generation', 'mean_error']
"""

from model_collapse.api import Result, load_config, open_run, run
from model_collapse.config import Config
from model_collapse.core.errors import UserInputError
from model_collapse.sweeps.suite import run_suite

__version__ = "0.1.0"
__all__ = [
    "Config",
    "Result",
    "UserInputError",
    "__version__",
    "load_config",
    "open_run",
    "run",
    "run_suite",
]
