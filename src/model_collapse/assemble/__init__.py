"""The layer above the plug-ins that puts a run together from its parts: a checked config
from dicts (:mod:`.validate`), the plug-in loader (:mod:`.plugins`) and the checks that
a config's parts fit together (:mod:`.checks`). It asks the plug-ins' registries; the
layers below it never do."""
