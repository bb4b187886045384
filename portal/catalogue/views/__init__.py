"""The screens of the catalogue: the catalogue itself and the registered domains and segments."""
