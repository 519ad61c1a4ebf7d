"""Running the project's notebooks: progress that leaves no residue in saved outputs
(:mod:`notebook_tools.progress`) and execution from the Jupytext source into a
temporary file that replaces the saved notebook only on success
(:mod:`notebook_tools.execute`)."""
