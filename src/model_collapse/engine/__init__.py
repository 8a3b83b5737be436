"""The run: one generation after another (:mod:`.loop`), what a regime or metric sees of a
generation (:mod:`.step`), the run directory and its verification (:mod:`.store`,
:mod:`.state`, :mod:`.lock`, :mod:`.provenance`), the run log (:mod:`.notes`), observers
of a run (:mod:`.observers`) and the capabilities a model may have
(:mod:`.capabilities`)."""
