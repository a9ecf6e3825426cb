"""The xiuhua application: composes vision with storage, people and the city platform."""
