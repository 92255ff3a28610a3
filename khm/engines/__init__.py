"""Pure-Python engines: no Django import allowed (enforced by import-linter).

The same engine code runs inside a request, in a management command, in a worker,
or on a distributed engine, so it only depends on the standard library and DataFrame
libraries.
"""
