"""One colour per group, keyed by its name: replace is drawn in the same colour in a
run's comparison.png, a suite's and the report, whatever other groups share the figure.

A name's colour comes from a hash of the name, not from its place in a list (the place
changes with the other names and their order: replace was blue in one figure and green
in the next). Ten colours cannot keep every name apart; where two names of one figure
hash to the same colour, the later of the two in alphabetical order takes the next free
one, so the same set of names is always drawn the same way.
"""

from __future__ import annotations

import hashlib

# matplotlib's tab10 less its grey (the colour of the real level's line), written out: the
# report draws them without matplotlib
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
)


# Any fixed salt keys colours to names; this one was picked so that the demo's regimes
# read as people expect: replace red, mix orange, accumulate blue.
SALT = "1545:"


def preferred(name: str) -> int:
    """A name's own place in the palette (stable across runs, machines and versions of
    Python: sha256, not ``hash``, which Python salts per process)."""
    digest = hashlib.sha256((SALT + name).encode()).digest()
    return int.from_bytes(digest[:4], "big") % len(PALETTE)


def colours(names: list[str]) -> dict[str, str]:
    """Each name's colour among these names. A sweep's label names the plug-in first and
    its settings after ("mix, real_fraction=0.1"): the plug-in's name picks the colour, so
    mix is drawn as mix is everywhere, and two settings of one plug-in part by the rule
    for two names of one colour."""
    found: dict[str, str] = {}
    used: set[int] = set()
    for name in sorted(set(names)):
        own = preferred(name.split(",", 1)[0].strip())
        places = [(own + step) % len(PALETTE) for step in range(len(PALETTE))]
        place = next((p for p in places if p not in used), own)  # over ten: shared
        used.add(place)
        found[name] = PALETTE[place]
    return found
