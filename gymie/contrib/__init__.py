"""Ready-made ``@override`` modules, loaded with ``--import`` (importing one applies its overrides).

- ``gymie.contrib.gym026``: serve legacy OpenAI Gym 0.26 envs (``gym.make``), in a virtualenv
  with ``pip install ".[gym]"`` (gym 0.26 needs ``numpy<2``).
"""
