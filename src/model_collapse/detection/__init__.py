"""Tools that work on data rather than runs: corpora and their tokenizers
(:mod:`.corpus`), the share of generated documents in a corpus with an interval
(:mod:`.audit`), and a generation's generated set handed to other tools
(:mod:`.export`). The detectors themselves are plug-ins (:mod:`model_collapse.detectors`)."""
