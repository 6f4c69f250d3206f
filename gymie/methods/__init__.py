"""The public methods, free of I/O, and the table that names them.

Each handler takes a :class:`Context` and the request's params and returns a value; ``legacy``
and ``rpc`` format that value for each protocol. Methods without a legacy formatter exist only
in protocol 2.
"""

from __future__ import annotations

from gymie.methods import discovery, env, legacy, rpc, vector
from gymie.methods.context import Context, StepResult
from gymie.registry import Method, MethodRegistry

__all__ = ["METHODS", "Context", "StepResult"]

METHODS = MethodRegistry()
for _method in (
    Method("make", env.make, rpc=rpc.instance_id, legacy=legacy.instance_id),
    Method("reset", env.reset, rpc=rpc.reset, legacy=legacy.observation),
    Method("step", env.step, rpc=rpc.step, legacy=legacy.step),
    Method("close", env.close, rpc=rpc.identity, legacy=legacy.value),
    Method("observation_space", env.observation_space, rpc=rpc.identity, legacy=legacy.space),
    Method("action_space", env.action_space, rpc=rpc.identity, legacy=legacy.space),
    Method("action_sample", env.action_sample, rpc=rpc.identity, legacy=legacy.value),
    Method("render", env.render, rpc=rpc.identity),
    Method("make_vec", vector.make_vec, rpc=rpc.identity),
    Method("single_observation_space", vector.single_observation_space, rpc=rpc.identity),
    Method("single_action_space", vector.single_action_space, rpc=rpc.identity),
    Method("env_info", discovery.env_info, rpc=rpc.identity),
    Method("list_envs", discovery.list_envs, rpc=rpc.identity),
    Method("server_info", discovery.server_info, rpc=rpc.identity),
):
    METHODS.register(_method)
