"""Where tables come from: uploaded files (:mod:`core.data.sources.files`) and bundled samples
(:mod:`core.data.sources.samples`).  Each source returns a table plus what is needed to record
its provenance; saving it as a dataset version is :mod:`core.data.datasets`' job.
"""
