"""Packaging for gymie: RL environments served over WebSocket."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "gymie" / "__init__.py").read_text()).group(1)

TEST = [
    "pytest>=8",
    "pytest-timeout>=2.3",
    "hypothesis>=6.100",
    "ruff>=0.6",
    "mypy>=1.10",
    "playwright>=1.40",  # drives Debian's Chromium in tests/test_dashboard_browser.py (no browser download)
    "setuptools>=68",  # tests/test_ui_package.py builds a wheel without build isolation
]

setup(
    name="gymie",
    version=VERSION,
    description="Serve Gymnasium (and Gym-like) environments over WebSocket to agents in any language",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.10",
    packages=find_packages(include=["gymie", "gymie.*"]),
    # The dashboard's files (gymie/ui/): its page, scripts and styles, and the vendored JS client and msgpack.
    package_data={
        "gymie": ["py.typed"],
        "gymie.ui": ["*.html", "*.js", "*.css", "vendor/*/*", "vendor/*/*/*"],
    },
    install_requires=[
        "eventlet>=0.36",
        # classic-control brings pygame: render_mode="rgb_array" works for CartPole & co. out of the box.
        "gymnasium[classic-control]>=1.0,<2",
        "numpy>=1.24",
        "msgpack>=1.0",
        # JSON in C: orjson writes (3.12 spells floats as repr() does but below 1e-4, which
        # gymie.codec mends), msgspec reads (exact big ints). See gymie/codec.py.
        "orjson>=3.12",
        "msgspec>=0.19",
        "websockets>=13",
        "prometheus-client>=0.20",
    ],
    extras_require={
        # Legacy OpenAI Gym 0.26 needs numpy<2 (np.bool8): install it in its own environment.
        "gym": ["gym==0.26.2", "numpy<2"],
        "atari": ["ale-py>=0.9"],
        "retro": ["stable-retro>=0.9"],
        # --isolation ray; 2.60 is the version measured (token auth from $RAY_AUTH_TOKEN, no ~/.ray).
        "ray": ["ray>=2.60,<3"],
        "test": TEST,
    },
    entry_points={"console_scripts": ["gymie=gymie.cli:main"]},
    classifiers=[
        "License :: OSI Approved :: MIT License",
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
