"""A sighting's evidence images: the annotated best frame and the tight crop, blurred first when asked."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vision.evidence.annotate import FrameAnnotator
from vision.evidence.blur import FaceBlurrer
from vision.evidence.caption import caption_for_sighting
from vision.evidence.crop import EvidenceCropper
from vision.evidence.style import EvidenceStyle
from vision.frame import GeoPoint
from vision.sighting import Sighting
from vision.taxonomy import Taxonomy

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, eq=False)
class SightingEvidence:
    """The images that show one sighting.

    Attributes:
        frame: The best frame with the box drawn and the caption band below.
        crop: The object with some context, resized to a reviewable size.
        blurred_boxes: ``(M, 4)`` areas blurred in both (faces, given people); empty when nothing was blurred.
    """

    frame: Image
    crop: Image
    blurred_boxes: npt.NDArray[np.float32]


class EvidenceRenderer:
    """Renders a sighting's evidence: blur (optional), then annotate the frame and crop the object."""

    def __init__(
        self,
        style: EvidenceStyle | None = None,
        *,
        blurrer: FaceBlurrer | None = None,
        taxonomy: Taxonomy | None = None,
    ) -> None:
        """Build the stages.

        Args:
            style: Look of the frame and size of the crop; ``None`` uses the defaults.
            blurrer: Blurs faces and given boxes before anything is drawn; ``None`` blurs nothing.
            taxonomy: Chinese and English class names; ``None`` reads the shipped taxonomy.
        """
        self.annotator = FrameAnnotator(style)
        self.cropper = EvidenceCropper(style)
        self.blurrer = blurrer
        self.taxonomy = taxonomy

    def render(
        self,
        sighting: Sighting,
        *,
        camera_name: str | None = None,
        location: GeoPoint | None = None,
        person_boxes: npt.ArrayLike | None = None,
    ) -> SightingEvidence:
        """Render the evidence of ``sighting`` from its best frame and best box.

        Args:
            sighting: The sighting.
            camera_name: Written in the caption, if known.
            location: Written in the caption; ``None`` uses ``sighting.location``.
            person_boxes: ``(M, 4)`` boxes in the best frame to blur whole (only with a blurrer).

        Raises:
            ValueError: The best box is empty, not finite or outside the best frame.
        """
        image = sighting.best_frame.image
        blurred = np.zeros((0, 4), np.float32)
        if self.blurrer is not None:
            result = self.blurrer.blur(image, person_boxes)
            image, blurred = result.image, result.blurred_boxes
        elif person_boxes is not None:
            raise ValueError("person_boxes were given to blur but the renderer has no blurrer")
        caption = caption_for_sighting(sighting, camera_name=camera_name, location=location, taxonomy=self.taxonomy)
        frame = self.annotator.annotate(image, sighting.best_box, caption)
        crop = self.cropper.crop(image, sighting.best_box)
        return SightingEvidence(frame=frame, crop=crop.image, blurred_boxes=blurred)
