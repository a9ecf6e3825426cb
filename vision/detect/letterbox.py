"""Fitting images of any size into the network input, and mapping boxes back.

The arithmetic follows ultralytics' ``LetterBox`` (centered, gray 114 padding, ``round(pad +- 0.1)`` split) and
``scale_boxes`` (per-axis gain from the rounded resized size), so every backend sees the pixels the .pt model sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

PAD_VALUE = 114


@dataclass(frozen=True)
class Letterbox:
    """How one image was resized and padded into the network input.

    Attributes:
        image_shape: The original image's ``(height, width)``.
        input_shape: The network input's ``(height, width)``.
        resized_shape: The image's ``(height, width)`` after resizing, before padding.
        pad_top: Rows of padding above the image.
        pad_left: Columns of padding left of the image.
    """

    image_shape: tuple[int, int]
    input_shape: tuple[int, int]
    resized_shape: tuple[int, int]
    pad_top: int
    pad_left: int

    @classmethod
    def fit(cls, image_shape: tuple[int, int], input_shape: tuple[int, int], *, stride: int | None = None) -> Letterbox:
        """Compute the letterbox of an image of ``image_shape`` into ``input_shape`` (both ``(h, w)``).

        Args:
            image_shape: The image's ``(height, width)``.
            input_shape: The network input's ``(height, width)``: the most the resized image may fill.
            stride: Rectangular letterboxing: the input shrinks to a multiple of ``stride`` with at least one
                ``stride`` of padding (half on each side) along the side the image does not fill, so a 1920x1080
                frame into 512x512 takes a 512x320 input instead of 512x512. ``None`` keeps ``input_shape``.
        """
        height, width = image_shape
        input_height, input_width = input_shape
        if height < 1 or width < 1:
            raise ValueError(f"cannot letterbox an empty image of shape {image_shape}")
        ratio = min(input_height / height, input_width / width)
        resized = (max(round(height * ratio), 1), max(round(width * ratio), 1))
        if stride is not None:
            # Unlike ultralytics' LetterBox(auto=True), a band of padding is kept: the model learnt on letterboxed
            # and mosaic images, and with the frame's edge on the input's border mAP50 on 16:9 street scenes fell
            # by 0.010, with a band of one stride by 0.004 (synth_s1 val, xiuhua-n stage 3).
            input_height = min(input_height, resized[0] + (input_height - resized[0]) % stride + stride)
            input_width = min(input_width, resized[1] + (input_width - resized[1]) % stride + stride)
        pad_height = (input_height - resized[0]) / 2
        pad_width = (input_width - resized[1]) / 2
        return cls(
            image_shape=(height, width),
            input_shape=(input_height, input_width),
            resized_shape=resized,
            pad_top=round(pad_height - 0.1),
            pad_left=round(pad_width - 0.1),
        )

    def apply(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Resize and pad ``image`` (of ``image_shape``) to ``input_shape``."""
        if image.shape[:2] != self.image_shape:
            raise ValueError(f"image of shape {image.shape[:2]} does not match letterbox for {self.image_shape}")
        resized: Any = image
        if self.resized_shape != self.image_shape:
            resized = cv2.resize(image, self.resized_shape[::-1], interpolation=cv2.INTER_LINEAR)
        bottom = self.input_shape[0] - self.resized_shape[0] - self.pad_top
        right = self.input_shape[1] - self.resized_shape[1] - self.pad_left
        padded = cv2.copyMakeBorder(
            resized, self.pad_top, bottom, self.pad_left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3
        )
        return np.asarray(padded, dtype=np.uint8)

    def to_image(self, xyxy: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Map ``(N, 4)`` boxes from network-input pixels to original-image pixels, clipped to the image."""
        boxes = np.array(xyxy, dtype=np.float32).reshape(-1, 4)
        gain_y = self.resized_shape[0] / self.image_shape[0]
        gain_x = self.resized_shape[1] / self.image_shape[1]
        boxes[:, [0, 2]] = (boxes[:, [0, 2]] - self.pad_left) / gain_x
        boxes[:, [1, 3]] = (boxes[:, [1, 3]] - self.pad_top) / gain_y
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, self.image_shape[1])
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, self.image_shape[0])
        return boxes

    def to_input(self, xyxy: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Map ``(N, 4)`` boxes from original-image pixels to network-input pixels (the inverse of ``to_image``)."""
        boxes = np.array(xyxy, dtype=np.float32).reshape(-1, 4)
        gain_y = self.resized_shape[0] / self.image_shape[0]
        gain_x = self.resized_shape[1] / self.image_shape[1]
        boxes[:, [0, 2]] = boxes[:, [0, 2]] * gain_x + self.pad_left
        boxes[:, [1, 3]] = boxes[:, [1, 3]] * gain_y + self.pad_top
        return boxes


def check_image(image: object, index: int) -> npt.NDArray[np.uint8]:
    """Return ``image`` if it is an ``(H, W, 3)`` uint8 array, else raise ValueError naming its batch index."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        described = f"{image.shape} {image.dtype}" if isinstance(image, np.ndarray) else type(image).__name__
        raise ValueError(f"image {index} must be an (H, W, 3) uint8 BGR array, got {described}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"image {index} is empty: shape {image.shape}")
    return image


def make_blob(
    images: Sequence[npt.NDArray[np.uint8]], input_shape: tuple[int, int], *, stride: int | None = None
) -> tuple[npt.NDArray[np.float32], list[Letterbox]]:
    """Letterbox BGR images into one ``(N, 3, H, W)`` float32 RGB batch scaled to ``[0, 1]``.

    Args:
        images: ``(H, W, 3)`` uint8 BGR images of any sizes.
        input_shape: Network input ``(height, width)``.
        stride: Letterbox rectangularly (see `Letterbox.fit`) when every image has the same shape; a batch of
            mixed shapes takes the square ``input_shape``, as ultralytics' predict does. ``None``: always square.

    Returns:
        The batch and each image's letterbox, to map boxes back.

    Raises:
        ValueError: An image is not an ``(H, W, 3)`` uint8 array.
    """
    shapes = [check_image(image, i).shape[:2] for i, image in enumerate(images)]
    rect = stride if len(set(shapes)) == 1 else None
    boxes = [Letterbox.fit(shape, input_shape, stride=rect) for shape in shapes]
    blob = np.empty((len(images), 3, *(boxes[0].input_shape if boxes else input_shape)), dtype=np.float32)
    for i, (image, box) in enumerate(zip(images, boxes, strict=True)):
        padded = box.apply(image)
        blob[i] = padded[:, :, ::-1].transpose(2, 0, 1)
    blob *= np.float32(1 / 255)
    return blob, boxes
