"""`solo doctor` and the native-build checks: which CPU this is, how llama.cpp was built for
it, and whether each model runtime actually runs here (each tried in a subprocess, so a
segfault is a finding, not a crash of the doctor).

`cpu` uses the standard library only: set-up runs it before Solo's dependencies exist.
"""
