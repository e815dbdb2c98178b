"""A real Jupyter kernel (the gb kernel or ipykernel's python3) through jupyter_client."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.manager import KernelManager

__all__ = ["start_kernel", "stop_kernel"]


def start_kernel(kernel_name: str, env: Mapping[str, str], cwd: Path, *, timeout: float = 60
                 ) -> tuple[KernelManager, BlockingKernelClient]:
    """Start the kernel `kernel_name` in `cwd` with `env` and wait until it answers (`timeout` seconds)."""
    km = KernelManager(kernel_name=kernel_name)
    km.start_kernel(env=dict(env), cwd=str(cwd))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=timeout)
    return km, kc


def stop_kernel(km: KernelManager, kc: BlockingKernelClient) -> None:
    """Close the client's channels and kill the kernel."""
    kc.stop_channels()
    km.shutdown_kernel(now=True)
