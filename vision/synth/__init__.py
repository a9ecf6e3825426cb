"""Synthetic street scenes with labels, for training and testing the detector.

A scene is modelled in metres (two facades, sidewalks, road; stalls, piles, banners, ads, sheds, rooftop
additions, and people, cars and trees as distractors) and rendered from a pinhole camera; the labels are the
visible parts of the labelled objects. Everything is deterministic by seed.
"""

from vision.synth.classes import CLASS_NAMES
from vision.synth.dataset import DatasetSummary, write_dataset
from vision.synth.sample import Sample, make_sample

__all__ = ["CLASS_NAMES", "DatasetSummary", "Sample", "make_sample", "write_dataset"]
