"""The default experiment, when a config names no plug-ins: a 1-D Gaussian refitted by
maximum likelihood on its own samples, generation after generation (the textbook case)."""

SOURCE = "gaussian"
FAMILY = "gaussian"
REGIME = "replace"
