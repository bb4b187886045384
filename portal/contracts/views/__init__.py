"""The screens of contracts: the agreements of the region, a provider's "Mijn contracten", and the
municipal choices."""
