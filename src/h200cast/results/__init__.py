"""Results: one run end to end (:class:`Result`), its files, and scoring against what happened."""
