"""Pure computer vision for xiuhua: frames in, detections, sightings and changes out.

Nothing here imports the web or database layers.
"""

from vision.detections import Detections, box_iou
from vision.frame import Frame, GeoPoint

__all__ = ["Detections", "Frame", "GeoPoint", "box_iou"]
