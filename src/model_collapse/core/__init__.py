"""The primitives every layer may use: errors and their one-line messages, named random
streams, items with provenance, degenerate fits, model locations on disk, the green-list
watermark, network reachability and progress reports. They import nothing of the package
outside this folder."""
