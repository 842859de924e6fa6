"""A Kedro hook that times every node, for the benchmarks that run a pipeline in-process."""

from __future__ import annotations

import time

from kedro.framework.hooks import hook_impl


class NodeTimer:
    """Kedro hooks: when each node started (``started``) and how long it ran (``seconds``;
    the node's function only, not the saving of its outputs)."""

    def __init__(self):
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}

    @hook_impl
    def before_node_run(self, node):
        self.started[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node):
        self.seconds[node.name] = time.perf_counter() - self.started[node.name]

    def hook_manager(self):
        """A hook manager with this timer registered (``SequentialRunner.run(...,
        hook_manager=...)``)."""
        from kedro.framework.hooks.manager import _create_hook_manager

        manager = _create_hook_manager()
        manager.register(self)
        return manager
