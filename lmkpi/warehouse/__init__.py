"""The pipeline's private working database and the published analyst warehouse."""
