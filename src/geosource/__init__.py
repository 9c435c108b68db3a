"""geosource: critical-minerals sourcing analysis on cited layers.

>>> import geosource as gs
>>> layers = gs.load_layers()
>>> len(layers.facilities) >= 100
True
"""

from __future__ import annotations

from . import errors as errors
from .countries import country_name as country_name
from .countries import normalize_country as normalize_country
from .layers import LAYER_KINDS as LAYER_KINDS
from .layers import Layers as Layers
from .layers import layer_summary as layer_summary
from .layers import load_boundaries as load_boundaries
from .layers import load_layers as load_layers
from .layers import load_ports as load_ports
from .layers import read_layer as read_layer
from .layers import validate_layer as validate_layer
from .layers import write_layer as write_layer
from .minerals import MINERALS as MINERALS
from .minerals import normalize_mineral as normalize_mineral
from .network import NetworkOptions as NetworkOptions
from .network import graph_from_layers as graph_from_layers
from .network import node_id as node_id

__version__ = "0.1.0"

__all__ = [
    "LAYER_KINDS",
    "MINERALS",
    "Layers",
    "NetworkOptions",
    "__version__",
    "country_name",
    "errors",
    "graph_from_layers",
    "layer_summary",
    "load_boundaries",
    "load_layers",
    "load_ports",
    "node_id",
    "normalize_country",
    "normalize_mineral",
    "read_layer",
    "validate_layer",
    "write_layer",
]
