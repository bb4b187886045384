"""The screens of the settlement: runs and statements, and the what-if simulator."""
