"""Many runs: sweep files and their runs (:mod:`.sweep`), where the runs go (local
processes, Dask or Ray: :mod:`.backends`), the sweep's tables read back and verified
(:mod:`.sweep_tables`), intervals and comparisons over seeds (:mod:`.compare`) and MLflow
tracking (:mod:`.tracking`)."""
