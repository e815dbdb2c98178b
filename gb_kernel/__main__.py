"""``python -m gb_kernel -f CONNECTION_FILE``: start the gb kernel (what kernel.json runs)."""

from ipykernel.kernelapp import IPKernelApp

from .kernel import GbKernel

if __name__ == "__main__":
    IPKernelApp.launch_instance(kernel_class=GbKernel)
