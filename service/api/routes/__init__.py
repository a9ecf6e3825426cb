"""HTTP routes, one module per area; they translate HTTP to calls of the data-access modules and back."""
