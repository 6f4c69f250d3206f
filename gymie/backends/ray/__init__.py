"""The Ray backend: each environment in its own Ray actor, anywhere in a cluster (``--isolation ray``).

Modules: ``backend`` (:class:`RayBackend`), ``cluster`` (joining or starting the cluster),
``host`` (what runs in an actor), ``proxy`` and ``waker`` (the server's side of an actor, and
waiting off the hub), ``sharded`` (one vector env over several actors). Only ``backend``,
``cluster`` and ``proxy`` import Ray; importing this package imports nothing.

``backend.RayBackend`` is the :class:`~gymie.envs.Backend` (and a
:class:`~gymie.envs.ShardingBackend`). ``warm_up`` joins the cluster (``cluster``); each
``start`` creates one actor running ``host.EnvHost``, which builds the env with gymie's own
factory, and returns a ``proxy.ActorEnv``; ``start_shards`` creates one actor per shard of a
vector env and returns a ``sharded.ShardedEnv``.

Actors are named ``gymie-<server pid>-<hex>`` in the namespace ``gymie`` and owned by the server
process (never detached): Ray reaps them when it exits, even when it is killed. ``resources``
(checked by the methods) become the actor's ``num_cpus``/``num_gpus`` or custom resources; with
none, Ray's default applies (one CPU to be placed, none held while running).
"""
