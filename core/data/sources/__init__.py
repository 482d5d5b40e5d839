"""Where tables come from, each read by the reader of its URL scheme (:mod:`.registry`):
uploaded files (:mod:`.files`, through :mod:`.sniff`, :mod:`.csvfile` and :mod:`.jsontable`) and
bundled samples (:mod:`.samples`), SQL databases (:mod:`.sql`, rows spooled through :mod:`.spool`) and
S3/R2/MinIO buckets (:mod:`.s3`), Kaggle datasets and competitions (:mod:`.kaggle`, handles and
credentials in :mod:`.kaggle_refs`).  Each reader returns a table plus its provenance; saving it as
a dataset version is :mod:`core.data.datasets`' job.  :mod:`.input_chunks` reads files to be
scored in chunks.
"""
