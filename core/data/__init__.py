"""Data: from where it lives to an immutable dataset version.

* ``sources`` – readers by format (files, CSV, JSON, samples) and input files read in chunks;
* ``types`` – the logical types of columns, one vocabulary for every stage;
* ``target`` – problem kinds and their detection from a target column;
* ``schema`` / ``quality`` / ``duplicates`` – what a version's columns are and what looks wrong;
* ``datasets`` – the catalogue of datasets and their versions;
* ``ingest`` – staged uploads and samples into the catalogue, as jobs.
"""
