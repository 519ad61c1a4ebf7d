"""Methods of the neighbouring assignments, composed with the Explanation chain."""
