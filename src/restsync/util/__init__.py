"""Shared helpers at the bottom of restsync's import graph, one concern per module.

Every layer may import them; they import nothing of restsync (the standard library and
the third-party packages restsync depends on only):

* `paths`: the one walker of dotted paths and JSONPath in JSON bodies and records;
* `redact`: the one secret masker (registered values in every encoding, URLs, headers);
* `urls`: origins and base_url joining;
* `suggest`: the did-you-mean of every "unknown ..." message;
* `jsontext`: a value as JSON text;
* `naming`: dlt's snake_case naming of tables and columns.
"""
