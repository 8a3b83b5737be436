"""What a person reads: figures (:mod:`.plots`), the self-contained HTML report gathered
from a run, suite or sweep (:mod:`.report`, written by :mod:`.report_page`) and its
reading of the numbers in plain words (:mod:`.reading`)."""
