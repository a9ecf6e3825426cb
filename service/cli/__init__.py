"""The ``xiuhua`` command line."""
