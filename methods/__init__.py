"""Methods of the neighbouring assignments, built from the Explanation chain's pieces (slices, QoIs, DoIs)."""
