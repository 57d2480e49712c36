"""Reading and writing files: all-or-nothing writes, YAML, manifests, parquet."""
