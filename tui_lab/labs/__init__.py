"""Lab kinds: one module per kind, named after it (char_rnn.py is kind "char_rnn").

What a kind module defines, and how kinds are found, is in tui_lab/registry.py (a layer
above this package: the kinds list, build_lab, scenario files, checkpoints). base.py
holds the Lab protocol, stepper.py the Stepper; modules starting with "_" are shared
helpers of the kinds.
"""
