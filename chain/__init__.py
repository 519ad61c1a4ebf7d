"""The Explanation chain's parts beside the starter's modules: the distributions of
interest's base (:mod:`chain.doi`), compiled functions (:mod:`chain.compiled`), the
affine head folded out of the path (:mod:`chain.affine_head`) and the input checks
every module shares (:mod:`chain.checks`)."""
