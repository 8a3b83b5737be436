"""The default experiment, when a config names no plug-ins: a 1-D Gaussian refitted by
maximum likelihood on its own samples, generation after generation (the textbook case)."""

SOURCE = "gaussian"
FAMILY = "gaussian"
REGIME = "replace"

# Text: the tokenizer the text commands read with when none is named (the bundled
# Wikipedia sample's, what its presets generate with), and the family paired with a text
# source named as a tokenizer, so that its config loads.
TOKENIZER = "wikipedia"
TEXT_FAMILY = "ngram"
