"""Methods of the neighbouring assignments, composed with the Explanation chain (slices, quantities and distributions of interest)."""
