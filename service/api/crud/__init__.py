"""Data access for the areas only the API owns (users and tokens, upload scan jobs, read views).

One module per area, keyword-only functions taking the session; they flush but never commit: the route (the unit of
work) commits once.
"""
