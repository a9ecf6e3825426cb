"""Building the detector: datasets, training, evaluation, export and model cards."""
