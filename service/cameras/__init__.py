"""Cameras: the department's fixed, PTZ and patrol-vehicle cameras (data access in :mod:`service.cameras.queries`)."""
