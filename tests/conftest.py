"""Shared test setup. Its presence puts tests/ on sys.path (pytest's prepend import
mode), so test modules in any folder can `from gradcheck import numeric_grad`."""
