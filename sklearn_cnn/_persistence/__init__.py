"""Model files and pickles: the safetensors format, its JSON codec, stable names.

``save``/``load`` (``format``), parameters as JSON (``codec``), what an
estimator hands over (``state``), the names files and pickles give objects
(``names``) and the one table of what earlier versions wrote (``compat``).
"""
