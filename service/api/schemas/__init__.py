"""Request and response bodies, in families per area: ``XCreate``, ``XUpdate``, ``XPublic``, ``XsPublic``."""
