"""Evidence images (取证图片): what a reviewer and the city platform see of a violation.

For a sighting: the annotated full frame (box, class, confidence, time, camera, location in a caption band, Chinese
names when a CJK font is installed) and a tight crop; optionally with faces and people blurred for evidence that
leaves the department. For a comparison hit: reference | current | change, from :mod:`vision.compare.evidence`.

    >>> renderer = EvidenceRenderer(blurrer=FaceBlurrer(BlurSettings(faces=False)))
    >>> evidence = renderer.render(sighting, camera_name="东门路口", person_boxes=people)
"""

from vision.compare.evidence import render_evidence as render_comparison
from vision.evidence.annotate import FrameAnnotator
from vision.evidence.blur import (
    BlurResult,
    BlurSettings,
    FaceBlurrer,
    FaceDetector,
    HaarFaceDetector,
    YuNetFaceDetector,
    load_face_detector,
)
from vision.evidence.caption import EvidenceCaption, box_label, caption_for_sighting, caption_lines
from vision.evidence.crop import EvidenceCrop, EvidenceCropper
from vision.evidence.render import EvidenceRenderer, SightingEvidence
from vision.evidence.style import EvidenceStyle

__all__ = [
    "BlurResult",
    "BlurSettings",
    "EvidenceCaption",
    "EvidenceCrop",
    "EvidenceCropper",
    "EvidenceRenderer",
    "EvidenceStyle",
    "FaceBlurrer",
    "FaceDetector",
    "FrameAnnotator",
    "HaarFaceDetector",
    "SightingEvidence",
    "YuNetFaceDetector",
    "box_label",
    "caption_for_sighting",
    "caption_lines",
    "load_face_detector",
    "render_comparison",
]
